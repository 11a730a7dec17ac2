package io.github.podcidr.k8s;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

/**
 * What a failed node write means for the subnets it carried, classified from the API server's answer; the policy of
 * each class is written at its constant.
 */
enum WriteOutcome {
    /** 404: the node is gone from the API, so its subnets are free (the delete event will confirm it). */
    NOT_FOUND("not_found"),
    /**
     * 409, or 422 from a failed JSON-patch {@code test} (kube-apiserver answers it with an empty {@code details}):
     * someone else changed the node between our read and our patch. Read it again.
     */
    CONFLICT("conflict"),
    /**
     * 422 from validation ({@code details.causes} name the fields, e.g. {@code spec.podCIDRs: Forbidden: node
     * updates may not change podCIDR except from "" to valid}): the patch itself can never pass while the node
     * stays as it is. Reported with a Warning event on the node and not retried until the node changes.
     */
    INVALID("invalid"),
    /**
     * No answer (0), 429 or 5xx: the patch may have been applied. Keep the subnets for the node (releasing one that
     * might have been written is worse than holding it until the next read) and retry.
     */
    UNAVAILABLE("unavailable"),
    /** Any other answer: the server refused the patch itself; retried with backoff and reported. */
    REJECTED("rejected");

    private final String token;

    WriteOutcome(String token) {
        this.token = token;
    }

    /**
     * Returns the stable token of the class, the {@code reason} label of the write-failure counter.
     *
     * @return e.g. {@code conflict}
     */
    String token() {
        return token;
    }

    /**
     * Classifies an API server's answer to a node patch.
     *
     * @param code the HTTP status, 0 when there was no answer
     * @param body the answer's body as JSON text (a Status), or null
     * @return the class
     */
    static WriteOutcome of(int code, String body) {
        if (code == 404) {
            return NOT_FOUND;
        }
        if (code == 422 && namesFields(body)) {
            return INVALID;
        }
        if (code == 409 || code == 422) {
            return CONFLICT;
        }
        if (code == 0 || code == 429 || code >= 500) {
            return UNAVAILABLE;
        }
        return REJECTED;
    }

    /**
     * Whether a Status names the fields it refuses: validation ({@code errors.NewInvalid}) writes one cause per field
     * error, with its {@code field}; a JSON patch that does not apply is answered with no causes at all.
     */
    private static boolean namesFields(String body) {
        if (body == null || body.isBlank()) {
            return false;
        }
        try {
            JsonElement status = JsonParser.parseString(body);
            if (!status.isJsonObject() || !(status.getAsJsonObject().get("details") instanceof
                    com.google.gson.JsonObject details) || !details.has("causes")
                    || !details.get("causes").isJsonArray()) {
                return false;
            }
            for (JsonElement cause : details.getAsJsonArray("causes")) {
                if (cause.isJsonObject() && cause.getAsJsonObject().has("field")) {
                    return true;
                }
            }
            return false;
        } catch (JsonParseException | IllegalStateException e) {
            return false; // not a Status: judged by the code alone
        }
    }
}
