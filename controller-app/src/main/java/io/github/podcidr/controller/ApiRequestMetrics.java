package io.github.podcidr.controller;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Histogram;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Request metrics of the controller's API clients with bounded labels: {@code podcidr_api_requests_total{verb,
 * resource,code}} and {@code podcidr_api_request_duration_seconds{verb,resource}}.
 *
 * <p>It replaces client-java's {@code Monitoring.installMetrics}, whose interceptor labels some requests with their
 * URL path: with one path per node, a 50,000-node cluster made 50,000 histogram children (about 8 KB each) and the
 * controller ran out of a 512 MiB heap at 130,000 nodes. Here a path is reduced to its resource ({@code nodes},
 * {@code leases}, {@code events}), so the label sets are a handful whatever the cluster's size.
 */
final class ApiRequestMetrics implements Interceptor {
    /** Registered once in the default registry, which /metrics serves, and shared by every client. */
    static final ApiRequestMetrics DEFAULT = new ApiRequestMetrics(CollectorRegistry.defaultRegistry);

    private final Counter requests;
    private final Histogram duration;

    ApiRequestMetrics(CollectorRegistry registry) {
        requests = Counter.build().name("podcidr_api_requests_total")
                .help("Requests to the Kubernetes API server by verb, resource and HTTP code (0: no answer).")
                .labelNames("verb", "resource", "code").register(registry);
        duration = Histogram.build().name("podcidr_api_request_duration_seconds")
                .help("Time to the answer's headers of requests to the Kubernetes API server (watches: until open).")
                .labelNames("verb", "resource")
                .buckets(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10).register(registry);
    }

    @Override
    public Response intercept(Chain chain) throws IOException {
        Request request = chain.request();
        Target target = Target.of(request.url().encodedPathSegments());
        String verb = verb(request, target.named());
        long start = System.nanoTime();
        String code = "0";
        try {
            Response response = chain.proceed(request);
            code = Integer.toString(response.code());
            return response;
        } finally {
            requests.labels(verb, target.resource(), code).inc();
            duration.labels(verb, target.resource()).observe((System.nanoTime() - start) / 1e9);
        }
    }

    /**
     * What a path addresses: {@code /api/v1/nodes/n1} is nodes, named; {@code /apis/coordination.k8s.io/v1/namespaces
     * /kube-system/leases} is leases, not named; a subresource is added ({@code nodes/status}); paths outside the API
     * groups are "other", the groups' roots "discovery".
     */
    record Target(String resource, boolean named) {
        static Target of(List<String> segments) {
            int i;
            if (segments.size() >= 2 && segments.get(0).equals("api")) {
                i = 2; // api, version
            } else if (segments.size() >= 3 && segments.get(0).equals("apis")) {
                i = 3; // apis, group, version
            } else {
                return new Target("other", false);
            }
            if (segments.size() > i + 2 && segments.get(i).equals("namespaces")) {
                i += 2; // a namespaced resource
            }
            if (segments.size() <= i || segments.get(i).isEmpty()) {
                return new Target("discovery", false);
            }
            String resource = segments.get(i);
            boolean named = segments.size() > i + 1 && !segments.get(i + 1).isEmpty();
            return new Target(segments.size() > i + 2 ? resource + "/" + segments.get(i + 2) : resource, named);
        }
    }

    private static String verb(Request request, boolean named) {
        switch (request.method()) {
            case "GET":
                if ("true".equals(request.url().queryParameter("watch"))) {
                    return "watch";
                }
                return named ? "get" : "list";
            case "POST":
                return "create";
            case "PUT":
                return "update";
            case "PATCH":
                return "patch";
            case "DELETE":
                return named ? "delete" : "deletecollection";
            default:
                return request.method().toLowerCase(Locale.ROOT);
        }
    }
}
