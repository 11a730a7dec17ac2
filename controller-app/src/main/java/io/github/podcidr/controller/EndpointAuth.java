package io.github.podcidr.controller;

import io.github.podcidr.k8s.ApiClientFactory;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.AuthenticationV1Api;
import io.kubernetes.client.openapi.apis.AuthorizationV1Api;
import io.kubernetes.client.openapi.models.V1NonResourceAttributes;
import io.kubernetes.client.openapi.models.V1SubjectAccessReview;
import io.kubernetes.client.openapi.models.V1SubjectAccessReviewSpec;
import io.kubernetes.client.openapi.models.V1SubjectAccessReviewStatus;
import io.kubernetes.client.openapi.models.V1TokenReview;
import io.kubernetes.client.openapi.models.V1TokenReviewSpec;
import io.kubernetes.client.openapi.models.V1TokenReviewStatus;
import io.kubernetes.client.openapi.models.V1UserInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Who may read the metrics address ({@code /metrics}, {@code /status}, {@code /status.json}): the bearer token of a
 * request is checked with a TokenReview (authentication.k8s.io/v1), then the user it names with a
 * SubjectAccessReview (authorization.k8s.io/v1) for verb {@code get} on the request's path as a non-resource URL, as
 * controller-runtime's metrics server does ({@code filters.WithAuthenticationAndAuthorization}). Grant it with a
 * ClusterRole rule {@code nonResourceURLs: ["/metrics"], verbs: ["get"]} (the chart's {@code metrics-reader}).
 *
 * <p>Each decision (allowed, 401, 403) is kept for {@link #CACHE_TTL} per token and path, so a scrape every few
 * seconds costs two API requests per {@link #CACHE_TTL} at most; a failed review (the API server unreachable, the
 * controller lacking {@code create} on the reviews) is answered 500 and not kept. Tokens are kept hashed
 * (SHA-256), never in clear.
 */
final class EndpointAuth {
    /** How long a decision is reused: a revoked binding or token stops working within this. */
    static final Duration CACHE_TTL = Duration.ofSeconds(10);
    /** Decisions kept at most; beyond, expired ones are dropped, then all (a flood of random tokens). */
    static final int CACHE_SIZE = 1024;
    /** Timeout of each review call: well inside the endpoints' connection deadline. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(4);

    /**
     * The outcome for one request.
     *
     * @param code 200 (allowed), 401, 403 or 500
     * @param reason why not, for the answer's body; empty when allowed
     */
    record Decision(int code, String reason) {
        static final Decision ALLOWED = new Decision(200, "");

        boolean allowed() {
            return code == 200;
        }
    }

    private record Entry(Decision decision, long expiresNanos) {
    }

    private final AuthenticationV1Api authn;
    private final AuthorizationV1Api authz;
    private final LongSupplier nanoTime;
    private final Map<String, Entry> cache = new LinkedHashMap<>();
    private long reviews;

    private EndpointAuth(ApiClient client, LongSupplier nanoTime) {
        this.authn = new AuthenticationV1Api(client);
        this.authz = new AuthorizationV1Api(client);
        this.nanoTime = nanoTime;
    }

    /**
     * Reviews with a client of the controller's (its service account, or its kubeconfig's user).
     *
     * @param clients makes the API client
     * @return the checker
     * @throws IOException if the client cannot be made
     */
    static EndpointAuth of(ApiClientFactory clients) throws IOException {
        return of(clients, System::nanoTime);
    }

    static EndpointAuth of(ApiClientFactory clients, LongSupplier nanoTime) throws IOException {
        ApiClient client = clients.create();
        client.setHttpClient(client.getHttpClient().newBuilder().callTimeout(CALL_TIMEOUT).build());
        return new EndpointAuth(client, nanoTime);
    }

    /** Reviews sent to the API server so far (each TokenReview and each SubjectAccessReview counts one; tests). */
    synchronized long reviews() {
        return reviews;
    }

    /**
     * Decides a request.
     *
     * @param authorization the request's Authorization header, or null
     * @param path the request's path, e.g. /metrics
     * @return the decision
     */
    Decision check(String authorization, String path) {
        String token = bearer(authorization);
        if (token == null) {
            return new Decision(401, "Unauthorized: send a service account token as \"Authorization: Bearer"
                    + " <token>\"");
        }
        String key = sha256(token) + " " + path;
        long now = nanoTime.getAsLong();
        synchronized (this) {
            Entry e = cache.get(key);
            if (e != null && e.expiresNanos() - now > 0) {
                return e.decision();
            }
        }
        Decision d;
        try {
            d = review(token, path);
        } catch (ApiException e) {
            return new Decision(500, "cannot check the token with the API server (HTTP " + e.getCode() + "): "
                    + firstLine(e.getResponseBody()) + "; the controller needs create on tokenreviews and"
                    + " subjectaccessreviews (the chart's ClusterRole has them)");
        } catch (RuntimeException e) {
            return new Decision(500, "cannot check the token with the API server: " + e);
        }
        synchronized (this) {
            if (cache.size() >= CACHE_SIZE) {
                cache.values().removeIf(x -> x.expiresNanos() - now <= 0);
                if (cache.size() >= CACHE_SIZE) {
                    cache.clear();
                }
            }
            cache.put(key, new Entry(d, now + CACHE_TTL.toNanos()));
        }
        return d;
    }

    private Decision review(String token, String path) throws ApiException {
        count();
        V1TokenReviewStatus who = authn.createTokenReview(new V1TokenReview().apiVersion("authentication.k8s.io/v1")
                .kind("TokenReview").spec(new V1TokenReviewSpec().token(token))).execute().getStatus();
        if (who == null || !Boolean.TRUE.equals(who.getAuthenticated()) || who.getUser() == null) {
            String error = who == null || who.getError() == null ? "" : ": " + who.getError();
            return new Decision(401, "Unauthorized: the API server does not accept this token" + error);
        }
        V1UserInfo user = who.getUser();
        count();
        V1SubjectAccessReviewStatus may = authz.createSubjectAccessReview(new V1SubjectAccessReview()
                .apiVersion("authorization.k8s.io/v1").kind("SubjectAccessReview")
                .spec(new V1SubjectAccessReviewSpec().user(user.getUsername()).uid(user.getUid())
                        .groups(user.getGroups()).extra(user.getExtra())
                        .nonResourceAttributes(new V1NonResourceAttributes().path(path).verb("get"))))
                .execute().getStatus();
        if (may == null || !may.getAllowed()) {
            String why = may == null || may.getReason() == null || may.getReason().isEmpty() ? ""
                    : " (" + may.getReason() + ")";
            return new Decision(403, "Forbidden: user \"" + user.getUsername() + "\" may not get path \"" + path
                    + "\"" + why + "; bind it to the ClusterRole that grants nonResourceURLs [" + path
                    + "] verb get (the chart's <release>-metrics-reader)");
        }
        return Decision.ALLOWED;
    }

    private synchronized void count() {
        reviews++;
    }

    private static String bearer(String authorization) {
        if (authorization == null) {
            return null;
        }
        String a = authorization.strip();
        if (a.length() < 7 || !a.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = a.substring(7).strip();
        return token.isEmpty() ? null : token;
    }

    private static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private static String firstLine(String body) {
        if (body == null || body.isBlank()) {
            return "no body";
        }
        String line = body.strip().lines().findFirst().orElse("");
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }
}
