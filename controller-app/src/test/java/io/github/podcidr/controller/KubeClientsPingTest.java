package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kubernetes.client.openapi.ApiClient;
import java.time.Duration;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/**
 * Every API client the factory makes pings its HTTP/2 connections, and keeps doing so once the controller derives
 * the watch's (no read timeout), the writes' (a read timeout, an interceptor) and the Lease's clients from it.
 * {@code DeadConnectionRealIT} shows what the PING does on a real kube-apiserver.
 */
class KubeClientsPingTest {
    private static final String KUBECONFIG = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: c
              cluster:
                server: https://127.0.0.1:6443
                insecure-skip-tls-verify: true
            users:
            - name: u
              user:
                token: t
            contexts:
            - name: c
              context:
                cluster: c
                user: u
            current-context: c
            """;

    @Test
    void everyClientAndEveryClientDerivedFromItPingsEvery15s() throws Exception {
        KubeClients clients = KubeClients.ofText(KUBECONFIG, 50, 100);
        long ping = KubeClients.PING_INTERVAL.toMillis();
        assertEquals(15_000, ping);

        ApiClient watch = clients.create();
        watch.setReadTimeout(0); // as PodCidrController makes its watch client
        assertEquals(ping, watch.getHttpClient().pingIntervalMillis(), "watch");

        ApiClient write = clients.create();
        write.setReadTimeout(10_000); // as PodCidrController makes its write client, then NodeWriter on top
        OkHttpClient writer = write.getHttpClient().newBuilder().addInterceptor(chain -> chain.proceed(
                chain.request())).build();
        assertEquals(ping, writer.pingIntervalMillis(), "writes");

        ApiClient lease = clients.createForElection();
        Duration half = Duration.ofSeconds(5); // as ControllerRunner.leaseClient makes the Lease's client
        OkHttpClient leaseHttp = lease.getHttpClient().newBuilder().connectTimeout(half).readTimeout(half)
                .writeTimeout(half).build();
        assertEquals(ping, leaseHttp.pingIntervalMillis(), "Lease");
    }
}
