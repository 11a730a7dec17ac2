package io.github.podcidr.k8s;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.podcidr.apiserver.ResourceType;
import io.github.podcidr.ipam.Cidr;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.Config;
import java.io.IOException;
import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Interceptor;
import okhttp3.Request;

/**
 * Controller replicas for end-to-end tests: each is a {@link ControllerRunner}, the code the deployable runs, with
 * its own API clients, in this JVM. In-process rather than separate processes because the checks need to see every
 * request a replica sends: an interceptor on its clients
 * <ul>
 *   <li>records any node write sent while the Lease (read from the simulator at that instant) names another holder
 *       (invariant 2: only the leader writes);</li>
 *   <li>can {@linkplain Replica#kill() kill} the replica the way kill -9 does as far as the cluster can tell: from
 *       then on nothing it sends reaches the API server, and it never releases its Lease.</li>
 * </ul>
 */
final class Replicas implements AutoCloseable {
    static final String LEASE = "podcidr-controller";
    static final String NAMESPACE = "kube-system";

    private final SimFixture f;
    private final ControllerSettings settings;
    private final Duration lease;
    private final Duration renew;
    private final Duration retry;
    final List<String> violations = new CopyOnWriteArrayList<>();
    final List<Replica> all = new CopyOnWriteArrayList<>();
    private final AtomicInteger names = new AtomicInteger();

    Replicas(SimFixture f, ControllerSettings settings, Duration lease, Duration renew, Duration retry) {
        this.f = f;
        this.settings = settings;
        this.lease = lease;
        this.renew = renew;
        this.retry = retry;
    }

    /** One replica and what it did. */
    final class Replica implements ControllerMetrics {
        final String id;
        final AtomicBoolean dead = new AtomicBoolean();
        final AtomicInteger assigned = new AtomicInteger();
        final AtomicInteger exhausted = new AtomicInteger();
        final AtomicInteger lost = new AtomicInteger();
        final java.util.Map<String, AtomicInteger> writeFailures = new java.util.concurrent.ConcurrentHashMap<>();
        ControllerRunner runner;

        Replica(String id) {
            this.id = id;
        }

        ApiClient client() throws IOException {
            ApiClient c = Config.fromConfig(new StringReader(f.sim.kubeconfig()));
            Interceptor guard = chain -> {
                if (dead.get()) {
                    throw new IOException("replica " + id + " was killed");
                }
                Request r = chain.request();
                if ("PATCH".equals(r.method()) && r.url().encodedPath().startsWith("/api/v1/nodes/")) {
                    String holder = holder();
                    if (!id.equals(holder)) {
                        violations.add(id + " wrote " + r.url().encodedPath() + " while the lease names " + holder);
                    }
                }
                return chain.proceed(r);
            };
            c.setHttpClient(c.getHttpClient().newBuilder().addInterceptor(guard).build());
            return c;
        }

        /** From now on nothing this replica sends reaches the API server; its Lease is not released. */
        void kill() {
            dead.set(true);
        }

        boolean leads() {
            return !dead.get() && runner.isLeader() && runner.isReady();
        }

        @Override
        public void assigned(String node, List<Cidr> cidrs) {
            assigned.incrementAndGet();
        }

        @Override
        public void writeFailed(String reason) {
            writeFailures.computeIfAbsent(reason, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void exhausted(String node) {
            exhausted.incrementAndGet();
        }

        @Override
        public String toString() {
            return id + (dead.get() ? "(dead)" : "") + (runner != null && runner.isLeader() ? "(leader)" : "");
        }
    }

    /** Starts a new replica with the shared settings. */
    Replica start() throws IOException {
        return start(settings);
    }

    Replica start(ControllerSettings s) throws IOException {
        Replica r = new Replica("replica-" + names.incrementAndGet());
        LeaderElectionSettings election = LeaderElectionSettings.defaults(NAMESPACE, LEASE, r.id)
                .withDurations(lease, renew, retry);
        r.runner = new ControllerRunner(r::client, s, election, r, r.lost::incrementAndGet);
        r.runner.start();
        all.add(r);
        return r;
    }

    /** Write failures of all replicas by reason, e.g. {conflict=3, unavailable=12}. */
    java.util.Map<String, Integer> writeFailures() {
        java.util.Map<String, Integer> sum = new java.util.TreeMap<>();
        for (Replica r : all) {
            r.writeFailures.forEach((k, v) -> sum.merge(k, v.get(), Integer::sum));
        }
        return sum;
    }

    String holder() {
        ObjectNode l = f.sim.get(ResourceType.LEASES, NAMESPACE, LEASE);
        return l == null ? null : l.at("/spec/holderIdentity").asText(null);
    }

    /** The live replica that leads and is ready, waiting for one. */
    Replica awaitLeader(Duration limit) {
        Replica[] found = new Replica[1];
        SimFixture.await(limit, () -> {
            for (Replica r : all) {
                if (r.leads()) {
                    found[0] = r;
                    return true;
                }
            }
            return false;
        }, () -> "a ready leader among " + all + ", lease holder " + holder());
        return found[0];
    }

    List<Replica> live() {
        List<Replica> out = new ArrayList<>();
        for (Replica r : all) {
            if (!r.dead.get()) {
                out.add(r);
            }
        }
        return out;
    }

    @Override
    public void close() {
        for (Replica r : all) {
            r.runner.close();
        }
    }
}
