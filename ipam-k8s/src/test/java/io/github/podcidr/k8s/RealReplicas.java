package io.github.podcidr.k8s;

import io.github.podcidr.ipam.Cidr;
import io.kubernetes.client.openapi.ApiClient;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import okhttp3.Interceptor;
import okhttp3.Request;

/**
 * Controller replicas against the real API server: each a {@link ControllerRunner} (the code the deployable runs)
 * in this JVM, with its own clients and election identity, all authenticating as the chart's ServiceAccount, all
 * campaigning for the one Lease {@value RealFixture#LEASE}. An interceptor on each replica's clients
 * <ul>
 *   <li>records any node write sent while the Lease, read from the server at that instant, names another holder;</li>
 *   <li>{@linkplain Replica#kill() kills} the replica as kill -9 would, as far as the cluster can tell: nothing it
 *       sends from then on reaches the server, and it never releases the Lease.</li>
 * </ul>
 */
final class RealReplicas implements AutoCloseable {
    private final RealFixture f;
    private final ControllerSettings settings;
    private final LeaderElectionSettings election;
    final List<String> violations = new CopyOnWriteArrayList<>();
    final List<Replica> all = new CopyOnWriteArrayList<>();

    /** Replicas with the same settings and election timings; nothing starts until {@link #start(String)}. */
    RealReplicas(RealFixture f, ControllerSettings settings, Duration lease, Duration renew, Duration retry) {
        this.f = f;
        this.settings = settings;
        this.election = LeaderElectionSettings.defaults(RealFixture.NAMESPACE, RealFixture.LEASE, "unused")
                .withDurations(lease, renew, retry);
    }

    /** One replica, and the counters of what it did. */
    final class Replica implements ControllerMetrics {
        final String id;
        final AtomicBoolean dead = new AtomicBoolean();
        final AtomicInteger assigned = new AtomicInteger();
        final AtomicInteger taintsRemoved = new AtomicInteger();
        final AtomicInteger lost = new AtomicInteger();
        /** The nodes whose pod-CIDR write this replica saw answered 200. */
        final Set<String> assignedNodes = ConcurrentHashMap.newKeySet();
        /** System.nanoTime() of the last assignment written. */
        final AtomicLong lastAssignedAt = new AtomicLong();
        final Map<String, AtomicInteger> exhausted = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> writeFailures = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> conflicts = new ConcurrentHashMap<>();
        /** System.nanoTime() and path of every node write this replica sent. */
        final List<Map.Entry<Long, String>> nodeWrites = new CopyOnWriteArrayList<>();
        private final ApiClientFactory through;
        private final ApiClientFactory electionThrough;
        ControllerRunner runner;

        Replica(String id, ApiClientFactory through, ApiClientFactory electionThrough) {
            this.id = id;
            this.through = through;
            this.electionThrough = electionThrough;
        }

        ApiClient client() throws IOException {
            return guarded(through.create());
        }

        ApiClient electionClient() throws IOException {
            return guarded(electionThrough.create());
        }

        private ApiClient guarded(ApiClient c) {
            Interceptor guard = chain -> {
                if (dead.get()) {
                    throw new IOException("replica " + id + " was killed");
                }
                Request r = chain.request();
                if ("PATCH".equals(r.method()) && r.url().encodedPath().startsWith("/api/v1/nodes/")) {
                    nodeWrites.add(Map.entry(System.nanoTime(), r.url().encodedPath()));
                    String holder = f.leaseHolder();
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

        /** Alive, leading, and restored. */
        boolean leads() {
            return !dead.get() && runner.isLeader() && runner.isReady();
        }

        PodCidrController controller() {
            return runner.controller();
        }

        @Override
        public void assigned(String node, List<Cidr> cidrs) {
            assigned.incrementAndGet();
            assignedNodes.add(node);
            lastAssignedAt.set(System.nanoTime());
        }

        @Override
        public void taintsRemoved(String node, int count) {
            taintsRemoved.addAndGet(count);
        }

        @Override
        public void writeFailed(String reason) {
            writeFailures.computeIfAbsent(reason, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void exhausted(String node) {
            exhausted.computeIfAbsent(node, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void conflict(String kind) {
            conflicts.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public String toString() {
            return id + (dead.get() ? "(dead)" : "") + (runner != null && runner.isLeader() ? "(leader)" : "");
        }
    }

    /** Starts a replica named {@code id} campaigning. */
    Replica start(String id) throws IOException {
        return start(id, f.controllerClients());
    }

    /** Starts a replica named {@code id} campaigning, its clients made by {@code through} (another API server). */
    Replica start(String id, ApiClientFactory through) throws IOException {
        return start(id, through, through);
    }

    /**
     * Starts a replica named {@code id} campaigning, its node and event clients made by {@code through} and its Lease
     * client by {@code electionThrough}: two API servers behind one address, as a load balancer spreads connections.
     */
    Replica start(String id, ApiClientFactory through, ApiClientFactory electionThrough) throws IOException {
        Replica r = new Replica(id, through, electionThrough);
        LeaderElectionSettings e = new LeaderElectionSettings(true, election.namespace(), election.leaseName(), id,
                election.leaseDuration(), election.renewDeadline(), election.retryPeriod());
        ApiClientFactory clients = new ApiClientFactory() {
            @Override
            public ApiClient create() throws IOException {
                return r.client();
            }

            @Override
            public ApiClient createForElection() throws IOException {
                return r.electionClient();
            }
        };
        r.runner = new ControllerRunner(clients, settings, e, r, r.lost::incrementAndGet);
        all.add(r);
        r.runner.start();
        return r;
    }

    /** The live replica that leads and has restored, waiting for one. */
    Replica awaitLeader(Duration limit) {
        Replica[] found = new Replica[1];
        RealFixture.await(limit, () -> {
            for (Replica r : all) {
                if (r.leads()) {
                    found[0] = r;
                    return true;
                }
            }
            return false;
        }, () -> "a ready leader among " + all + ", lease holder " + f.leaseHolder());
        return found[0];
    }

    @Override
    public void close() {
        for (Replica r : all) {
            r.runner.close();
        }
    }
}
