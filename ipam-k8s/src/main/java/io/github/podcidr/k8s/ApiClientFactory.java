package io.github.podcidr.k8s;

import io.kubernetes.client.openapi.ApiClient;
import java.io.IOException;

/**
 * Makes a new client for the same cluster and credentials each time it is called. The controller needs several:
 * the informer's watch needs no read timeout, while writes need one (a write that never answers must fail, not hang).
 */
@FunctionalInterface
public interface ApiClientFactory {
    /**
     * Creates a client.
     *
     * @return a new, independent client
     * @throws IOException if the configuration cannot be read
     */
    ApiClient create() throws IOException;

    /**
     * Creates a client for the leader election's Lease requests. A factory that limits the rate of its clients'
     * requests (a client-side token bucket shared by node writes, lists and events) must leave this one out of that
     * budget: a renewal that waits behind a backlog of node writes misses its deadline, and the leader loses its
     * Lease exactly when it has the most work. The default is {@link #create()}, for factories without a limit.
     *
     * @return a new, independent client that never waits for a shared rate limit
     * @throws IOException if the configuration cannot be read
     */
    default ApiClient createForElection() throws IOException {
        return create();
    }
}
