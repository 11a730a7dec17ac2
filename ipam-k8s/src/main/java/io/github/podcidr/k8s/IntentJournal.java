package io.github.podcidr.k8s;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import com.google.gson.reflect.TypeToken;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoordinationV1Api;
import io.kubernetes.client.openapi.models.V1Lease;
import io.kubernetes.client.openapi.models.V1LeaseSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pod CIDR writes of this term that may still land, kept in a Lease of their own so that the next leader can
 * finish them: the fence that does not rely on the API server dropping late writes.
 *
 * <p>Why: kube-apiserver can store a write after it answered 504 (1.20 lets the storage call outlive the request's
 * deadline; later versions cancel it, but a transaction already sent to etcd still commits). So a write of an old
 * leader may land at any time after the new leader took over. If the new leader had meanwhile handed that subnet to
 * another node, two nodes would hold it.
 *
 * <p>The rules, each needed by the argument in {@code docs/reliability.md}:
 * <ol>
 *   <li>Before a node write that carries pod CIDRs is sent, its intent (node, uid, CIDRs) is in this Lease: the
 *       write is sent only after the update that recorded it was answered 200. Updates carry the resourceVersion
 *       last seen, so they succeed only on the record as this term last wrote it.</li>
 *   <li>A term starts by <em>sealing</em> the record: it reads it and writes it back under its own name before its
 *       first write. From then on every update of the old term fails (409), so the old term sends nothing more; and
 *       every update of the old term that succeeded is in what the seal read (one that landed between the read and
 *       the write makes the seal fail, and it reads again).</li>
 *   <li>So every write an old leader ever sent, and did not see settled, is in the record the new leader inherits.
 *       The new leader holds those subnets for those nodes and writes them itself: whichever of the two writes lands
 *       first wins, both carry the same value, and the other fails its {@code test} guard. No subnet of an intent
 *       goes to another node.</li>
 *   <li>An intent is settled, and dropped at the next update, when its write was answered (200, or a definitive
 *       refusal: 404, 409, 422), or when the node is seen with pod CIDRs or gone: a guarded write can land only on
 *       the node it names (uid) while that node has no pod CIDR.</li>
 * </ol>
 * Cost: one Lease update per batch of writes; writers that arrive while an update is in flight share the next one.
 * Bound: at most {@link #MAX_INTENTS} unsettled intents; a write beyond them waits.
 */
public final class IntentJournal {
    private static final Logger LOG = LoggerFactory.getLogger(IntentJournal.class);
    /** The annotation of the journal's Lease that holds the intents, as a JSON array. */
    static final String ANNOTATION = "podcidr.github.io/intents";
    /**
     * The most unsettled intents: about 100 bytes each, so the annotation stays far below the API server's 256 KiB
     * for all of an object's annotations. In steady state the count is the writes in flight (the workers).
     */
    static final int MAX_INTENTS = 2_000;
    /** How often a seal reads again after losing a race with another update. */
    private static final int SEAL_ATTEMPTS = 10;
    private static final Gson GSON = new Gson();

    /** No journal: for a controller that writes nothing (dry run) or tests of other parts. */
    static final IntentJournal NONE = new IntentJournal(null, "", "", "");

    /**
     * Where the journal is kept: a Lease that every replica of the controller names alike.
     *
     * @param namespace the Lease's namespace (the controller's own)
     * @param name the Lease's name, e.g. {@code podcidr-controller-intents}
     */
    public record Location(String namespace, String name) {
        /** Checks both are given. */
        public Location {
            Objects.requireNonNull(namespace, "namespace");
            Objects.requireNonNull(name, "name");
        }
    }

    /**
     * A write that may land.
     *
     * @param node the node's name
     * @param uid the node's uid as read (the write's guard)
     * @param cidrs the pod CIDRs written
     */
    record Intent(String node, String uid, List<String> cidrs) {
        Intent {
            Objects.requireNonNull(node, "node");
            cidrs = List.copyOf(cidrs);
        }
    }

    /** The journal was sealed by another term: this term must send nothing more. */
    static final class SupersededException extends Exception {
        SupersededException(String holder) {
            super("the intent journal was sealed by " + holder + "; this term writes nothing more");
        }
    }

    private final CoordinationV1Api api;
    private final String namespace;
    private final String name;
    private final String term;
    private final Object lock = new Object();
    /** Unsettled intents by node, in the order recorded (guarded by {@link #lock}). */
    private final Map<String, Intent> live = new LinkedHashMap<>();
    /** Bumped on every change of {@link #live}; {@link #written} is the version last stored (guarded by lock). */
    private long version;
    private long written;
    private boolean writing;
    private String supersededBy;
    /** The Lease as last read or written by this term, for the resourceVersion of the next update. */
    private V1Lease last;

    private IntentJournal(CoordinationV1Api api, String namespace, String name, String term) {
        this.api = api;
        this.namespace = namespace;
        this.name = name;
        this.term = term;
    }

    /**
     * A journal in the Lease {@code namespace/name}, for the term named {@code term}; nothing is read until
     * {@link #seal()}.
     */
    static IntentJournal in(CoordinationV1Api api, String namespace, String name, String term) {
        return new IntentJournal(Objects.requireNonNull(api, "api"), namespace, name, term);
    }

    /** Whether intents are recorded at all. */
    boolean enabled() {
        return api != null;
    }

    /**
     * Seals the journal for this term: reads what earlier terms left, and writes it back under this term's name, so
     * that no earlier term can record (and so send) anything more. The inherited intents stay unsettled in this term
     * until {@link #settle} drops them.
     *
     * @return the intents of earlier terms that were not seen settled
     * @throws ApiException if the Lease cannot be read, created or written
     */
    List<Intent> seal() throws ApiException {
        if (!enabled()) {
            return List.of();
        }
        for (int attempt = 1; ; attempt++) {
            V1Lease read;
            try {
                read = api.readNamespacedLease(name, namespace).execute();
            } catch (ApiException e) {
                if (e.getCode() != 404) {
                    throw e;
                }
                read = null;
            }
            List<Intent> inherited = read == null ? List.of() : intentsOf(read);
            synchronized (lock) {
                live.clear();
                inherited.forEach(i -> live.put(i.node(), i));
                version++;
            }
            try {
                V1Lease sealed = read == null
                        ? api.createNamespacedLease(namespace, leaseOf(null, inherited)).execute()
                        : api.replaceNamespacedLease(name, namespace, leaseOf(read, inherited)).execute();
                synchronized (lock) {
                    last = sealed;
                    written = version;
                }
                LOG.atInfo().setMessage("intent journal sealed").addKeyValue("lease", namespace + "/" + name)
                        .addKeyValue("term", term).addKeyValue("inherited", inherited.size())
                        .addKeyValue("previous_holder", read == null || read.getSpec() == null ? ""
                                : read.getSpec().getHolderIdentity()).log();
                return inherited;
            } catch (ApiException e) {
                if ((e.getCode() != 409 && e.getCode() != 422) || attempt == SEAL_ATTEMPTS) {
                    throw e; // 409: updated since our read; 422 create raced: read again
                }
            }
        }
    }

    /**
     * Records an intent and returns once it is stored, sharing the update with writers that arrive meanwhile.
     *
     * @param intent the write about to be sent
     * @throws ApiException if the update failed (the write must not be sent now; try later)
     * @throws SupersededException if another term sealed the journal (the write must never be sent)
     */
    void record(Intent intent) throws ApiException, SupersededException {
        if (!enabled()) {
            return;
        }
        long target;
        synchronized (lock) {
            if (supersededBy != null) {
                throw new SupersededException(supersededBy);
            }
            if (!live.containsKey(intent.node()) && live.size() >= MAX_INTENTS) {
                throw new ApiException(429, "intent journal full: " + MAX_INTENTS + " writes unsettled");
            }
            if (!intent.equals(live.put(intent.node(), intent))) {
                version++;
            }
            target = version;
        }
        while (true) {
            List<Intent> snapshot;
            long snapshotVersion;
            V1Lease base;
            synchronized (lock) {
                while (writing && written < target && supersededBy == null) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new ApiException(0, "interrupted while recording an intent");
                    }
                }
                if (supersededBy != null) {
                    throw new SupersededException(supersededBy);
                }
                if (written >= target) {
                    return; // stored, by this thread or by another writer's update
                }
                writing = true;
                snapshot = new ArrayList<>(live.values());
                snapshotVersion = version;
                base = last;
            }
            store(snapshot, snapshotVersion, base);
        }
    }

    /** Writes one snapshot; on return {@link #writing} is false again and waiters are woken. */
    private void store(List<Intent> snapshot, long snapshotVersion, V1Lease base)
            throws ApiException, SupersededException {
        V1Lease stored = null;
        try {
            stored = api.replaceNamespacedLease(name, namespace, leaseOf(base, snapshot)).execute();
        } catch (ApiException e) {
            if (e.getCode() != 409) {
                throw e;
            }
            // Updated by someone else since our last write, or by our own update that was answered with an error
            // but stored: whose it is, the holder says.
            V1Lease now = api.readNamespacedLease(name, namespace).execute();
            String holder = now.getSpec() == null ? null : now.getSpec().getHolderIdentity();
            synchronized (lock) {
                if (term.equals(holder)) {
                    last = now; // ours: try again on top of it
                } else {
                    supersededBy = String.valueOf(holder);
                    LOG.atWarn().setMessage("intent journal sealed by another term, writes stop")
                            .addKeyValue("lease", namespace + "/" + name).addKeyValue("holder", holder).log();
                }
            }
        } finally {
            synchronized (lock) {
                if (stored != null) {
                    last = stored;
                    written = Math.max(written, snapshotVersion);
                }
                writing = false;
                lock.notifyAll();
            }
        }
    }

    /**
     * Drops a node's intent: its write was answered, or the node was seen with pod CIDRs or gone. Stored with the
     * next update.
     *
     * @param node the node's name
     */
    void settle(String node) {
        if (!enabled()) {
            return;
        }
        synchronized (lock) {
            if (live.remove(node) != null) {
                version++;
            }
        }
    }

    /**
     * Tells whether a write of this node may still land.
     *
     * @param node the node's name
     * @return true if its intent is unsettled
     */
    boolean unsettled(String node) {
        synchronized (lock) {
            return live.containsKey(node);
        }
    }

    private V1Lease leaseOf(V1Lease base, List<Intent> intents) {
        V1ObjectMeta meta = base == null ? new V1ObjectMeta().name(name).namespace(namespace) : base.getMetadata();
        Map<String, String> annotations = meta.getAnnotations() == null ? new HashMap<>()
                : new HashMap<>(meta.getAnnotations());
        annotations.put(ANNOTATION, GSON.toJson(intents));
        V1LeaseSpec spec = base == null || base.getSpec() == null ? new V1LeaseSpec() : base.getSpec();
        return new V1Lease().apiVersion("coordination.k8s.io/v1").kind("Lease")
                .metadata(copy(meta).annotations(annotations)).spec(copy(spec).holderIdentity(term));
    }

    private static V1ObjectMeta copy(V1ObjectMeta m) {
        return new V1ObjectMeta().name(m.getName()).namespace(m.getNamespace()).resourceVersion(m.getResourceVersion())
                .uid(m.getUid()).labels(m.getLabels()).annotations(m.getAnnotations()).finalizers(m.getFinalizers())
                .ownerReferences(m.getOwnerReferences());
    }

    private static V1LeaseSpec copy(V1LeaseSpec s) {
        return new V1LeaseSpec().holderIdentity(s.getHolderIdentity()).leaseDurationSeconds(s.getLeaseDurationSeconds())
                .acquireTime(s.getAcquireTime()).renewTime(s.getRenewTime()).leaseTransitions(s.getLeaseTransitions());
    }

    /** The intents stored in a Lease; an unreadable annotation is logged and read as none. */
    static List<Intent> intentsOf(V1Lease lease) {
        Map<String, String> annotations = lease.getMetadata() == null ? null : lease.getMetadata().getAnnotations();
        String json = annotations == null ? null : annotations.get(ANNOTATION);
        if (json == null || json.isBlank()) {
            return List.of();
        }
        try {
            List<Intent> parsed = GSON.fromJson(json, new TypeToken<List<Intent>>() { }.getType());
            List<Intent> out = new ArrayList<>();
            for (Intent i : parsed == null ? List.<Intent>of() : parsed) {
                if (i != null && i.node() != null && i.cidrs() != null) {
                    out.add(new Intent(i.node(), i.uid(), i.cidrs()));
                }
            }
            return out;
        } catch (JsonParseException | IllegalStateException | NullPointerException e) {
            LOG.atError().setMessage("intent journal unreadable, inheriting nothing")
                    .addKeyValue("annotation", ANNOTATION).addKeyValue("error", e.getMessage()).log();
            return List.of();
        }
    }
}
