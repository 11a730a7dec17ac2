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
}
