package io.github.podcidr.k8s;

/**
 * What a failed node write means for the subnets it carried, classified from the API server's answer; the policy of
 * each class is written at its constant.
 */
enum WriteOutcome {
    /** 404: the node is gone from the API, so its subnets are free (the delete event will confirm it). */
    NOT_FOUND("not_found"),
    /**
     * 409, or 422 from a failed JSON-patch {@code test}: someone else changed the node between our read and our
     * patch. Read it again.
     */
    CONFLICT("conflict"),
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
     * @return the class
     */
    static WriteOutcome of(int code) {
        if (code == 404) {
            return NOT_FOUND;
        }
        if (code == 409 || code == 422) {
            return CONFLICT;
        }
        if (code == 0 || code == 429 || code >= 500) {
            return UNAVAILABLE;
        }
        return REJECTED;
    }
}
