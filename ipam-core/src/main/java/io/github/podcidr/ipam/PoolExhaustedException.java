package io.github.podcidr.ipam;

/**
 * Thrown when no subnet is free: by {@link SubnetPool#allocate()} for one pool, and by {@link NodeIpam#assign(String)}
 * when every pool of a family is full. It carries the figures an operator needs to decide what to do (free nodes,
 * append a range, or shorten the node prefix).
 *
 * <p>Exhaustion is an expected condition, not a bug, so the exception has no stack trace and no suppressed
 * exceptions: it is immutable, and a full pool hands out the same instance until its figures change, which makes a
 * failed {@code allocate()} as cheap as a successful one (as the Go and Kubernetes allocators return a sentinel
 * error).
 */
public final class PoolExhaustedException extends IpamException {
    private static final long serialVersionUID = 1L;

    /** The range of the (last) full pool. */
    private final Cidr pool;
    /** The prefix length of the subnets that pool hands out. */
    private final int nodePrefixLength;
    /** Number of subnets of that pool. */
    private final long capacity;
    /** Subnets of that pool that are allocated or reserved; equal to capacity. */
    private final long used;
    /** The node group whose pools are full, or null when thrown by a single {@link SubnetPool}. */
    private final String group;

    PoolExhaustedException(String message, Cidr pool, int nodePrefixLength, long capacity, long used) {
        this(message, pool, nodePrefixLength, capacity, used, null);
    }

    PoolExhaustedException(String message, Cidr pool, int nodePrefixLength, long capacity, long used, String group) {
        super(message, false);
        this.pool = pool;
        this.nodePrefixLength = nodePrefixLength;
        this.capacity = capacity;
        this.used = used;
        this.group = group;
    }

    /**
     * Returns the node group whose pools of a family are all full, when thrown by {@link NodeIpam}
     * ({@link NodeIpam#DEFAULT_GROUP} for the pools of {@link NodeIpam.Builder#addPool(Cidr, int)}).
     *
     * @return the group's name, or empty when thrown by a single {@link SubnetPool}
     */
    public java.util.Optional<String> group() {
        return java.util.Optional.ofNullable(group);
    }

    /**
     * Returns the range of the full pool (for {@link NodeIpam}, the last pool of the family that was tried).
     *
     * @return the pool's cluster range
     */
    public Cidr pool() {
        return pool;
    }

    /**
     * Returns the prefix length of the subnets the pool hands out.
     *
     * @return the node prefix length
     */
    public int nodePrefixLength() {
        return nodePrefixLength;
    }

    /**
     * Returns the number of subnets of the pool.
     *
     * @return the pool's capacity
     */
    public long capacity() {
        return capacity;
    }

    /**
     * Returns the number of subnets of the pool that are allocated or reserved.
     *
     * @return subnets in use
     */
    public long used() {
        return used;
    }
}
