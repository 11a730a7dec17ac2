package io.github.podcidr.k8s;

/**
 * Whether this replica may write now. Only the leader writes (invariant 2); a leader that could not renew its lease
 * in time must stop before a standby can take over, so the check is made right before every write.
 */
@FunctionalInterface
public interface WriteFence {
    /** Always open: for a single replica without leader election. */
    WriteFence OPEN = () -> true;

    /**
     * Tells whether a write may be sent now.
     *
     * @return true while this replica holds a fresh lease
     */
    boolean mayWrite();
}
