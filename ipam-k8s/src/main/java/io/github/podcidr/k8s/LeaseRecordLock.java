package io.github.podcidr.k8s;

import io.kubernetes.client.extended.leaderelection.LeaderElectionRecord;
import io.kubernetes.client.extended.leaderelection.Lock;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.models.V1Lease;
import io.kubernetes.client.openapi.models.V1LeaseSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The elector's view of a {@code coordination.k8s.io/v1} Lease, written for Leases that other tools wrote. Every
 * field of a Lease's spec is optional in the API: {@code kubectl create} of a bare Lease, or an elector that does not
 * count transitions, leaves {@code leaseTransitions} (or {@code leaseDurationSeconds}, or the whole spec) out.
 * client-java's {@code LeaseLock} unboxes both and fails with a NullPointerException on every try, so the replica
 * never leads. Here a missing count reads as 0 and a missing holder as free, as client-go reads them.
 *
 * <p>Updates are optimistic: they carry the resourceVersion of the Lease last read, so two replicas that both saw
 * the Lease free cannot both take it (the second gets 409).
 */
final class LeaseRecordLock implements Lock {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseRecordLock.class);

    private final String namespace;
    private final String name;
    private final String identity;
    private final CoordinationV1Api api;
    /** The Lease as last read or written, for the resourceVersion of the next update. */
    private final AtomicReference<V1Lease> last = new AtomicReference<>();
    /** When {@link #last} was set, for status pages. */
    private volatile java.time.Instant lastAt;

    LeaseRecordLock(String namespace, String name, String identity, ApiClient client) {
        this.namespace = namespace;
        this.name = name;
        this.identity = identity;
        this.api = new CoordinationV1Api(client);
    }

    @Override
    public LeaderElectionRecord get() throws ApiException {
        V1Lease lease = api.readNamespacedLease(name, namespace).execute(); // 404 goes to the elector: it creates
        remember(lease);
        return recordOf(lease.getSpec());
    }

    /** The record of a spec whose fields may each be missing; never null. */
    static LeaderElectionRecord recordOf(V1LeaseSpec spec) {
        LeaderElectionRecord r = new LeaderElectionRecord();
        if (spec == null) {
            return r;
        }
        r.setHolderIdentity(spec.getHolderIdentity());
        r.setLeaseDurationSeconds(spec.getLeaseDurationSeconds() == null ? 0 : spec.getLeaseDurationSeconds());
        r.setLeaderTransitions(spec.getLeaseTransitions() == null ? 0 : spec.getLeaseTransitions());
        r.setAcquireTime(spec.getAcquireTime() == null ? null : Date.from(spec.getAcquireTime().toInstant()));
        r.setRenewTime(spec.getRenewTime() == null ? null : Date.from(spec.getRenewTime().toInstant()));
        return r;
    }

    private static V1LeaseSpec specOf(LeaderElectionRecord r) {
        return new V1LeaseSpec().holderIdentity(r.getHolderIdentity())
                .leaseDurationSeconds(r.getLeaseDurationSeconds())
                .leaseTransitions(r.getLeaderTransitions())
                .acquireTime(time(r.getAcquireTime()))
                .renewTime(time(r.getRenewTime()));
    }

    private static OffsetDateTime time(Date d) {
        return d == null ? null : OffsetDateTime.ofInstant(d.toInstant(), ZoneOffset.UTC);
    }

    @Override
    public boolean create(LeaderElectionRecord record) {
        V1Lease lease = new V1Lease().metadata(new V1ObjectMeta().name(name).namespace(namespace))
                .spec(specOf(record));
        try {
            remember(api.createNamespacedLease(namespace, lease).execute());
            return true;
        } catch (ApiException e) {
            LOG.atDebug().setMessage("lease create failed").addKeyValue("lease", namespace + "/" + name)
                    .addKeyValue("code", e.getCode()).log();
            return false;
        }
    }

    @Override
    public boolean update(LeaderElectionRecord record) {
        V1Lease read = last.get();
        if (read == null || read.getMetadata() == null) {
            return false; // never read: the elector always reads first
        }
        V1Lease lease = new V1Lease().metadata(new V1ObjectMeta().name(name).namespace(namespace)
                        .resourceVersion(read.getMetadata().getResourceVersion())
                        .labels(read.getMetadata().getLabels()).annotations(read.getMetadata().getAnnotations())
                        .ownerReferences(read.getMetadata().getOwnerReferences()))
                .spec(specOf(record));
        try {
            remember(api.replaceNamespacedLease(name, namespace, lease).execute());
            return true;
        } catch (ApiException e) {
            LOG.atDebug().setMessage("lease update failed").addKeyValue("lease", namespace + "/" + name)
                    .addKeyValue("code", e.getCode()).log();
            return false;
        }
    }

    private void remember(V1Lease lease) {
        last.set(lease);
        lastAt = java.time.Instant.now();
    }

    /** The Lease as last read or written, or null before the first answer; for status pages. */
    LeaderLease lastSeen() {
        V1Lease lease = last.get();
        if (lease == null) {
            return null;
        }
        V1LeaseSpec spec = lease.getSpec();
        LeaderElectionRecord r = recordOf(spec);
        return new LeaderLease(r.getHolderIdentity() == null ? "" : r.getHolderIdentity(),
                r.getAcquireTime() == null ? null : r.getAcquireTime().toInstant(),
                r.getRenewTime() == null ? null : r.getRenewTime().toInstant(), r.getLeaseDurationSeconds(),
                r.getLeaderTransitions(), lastAt);
    }

    @Override
    public String identity() {
        return identity;
    }

    @Override
    public String describe() {
        return namespace + "/" + name;
    }
}
