package io.github.podcidr.k8s;

import java.time.Duration;

/**
 * The node cache of a new leader did not fill within the cache sync timeout: the leader cannot restore its state, so
 * it must give up its term rather than hold the Lease without allocating. The message names the last error of the
 * node LIST when there was one (e.g. a 403 when RBAC forbids {@code list nodes}).
 */
public final class CacheSyncTimeoutException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param timeout the timeout that passed
     * @param lastListError the last failure of the node LIST, or null if none was seen
     */
    public CacheSyncTimeoutException(Duration timeout, Throwable lastListError) {
        super("the node cache did not sync within " + timeout.toMillis() + " ms (--cache-sync-timeout); "
                + (lastListError == null ? "no LIST error was seen (the LIST is still running or never answered)"
                        : "last LIST error: " + describe(lastListError)), lastListError);
    }

    private static String describe(Throwable e) {
        if (e instanceof io.kubernetes.client.openapi.ApiException api) {
            String body = api.getResponseBody();
            return "HTTP " + api.getCode() + (body == null || body.isBlank() ? " " + api.getMessage()
                    : " " + body.replace('\n', ' '));
        }
        return e.toString();
    }
}
