package io.github.podcidr.ipam;

/**
 * Thrown when a {@link SubnetPool} is asked to occupy a CIDR that is not one of its subnets: another family, outside
 * the pool's range, or not of the pool's node prefix length.
 */
public final class CidrNotInPoolException extends IpamException {
    private static final long serialVersionUID = 1L;

    /** The CIDR that was refused. */
    private final Cidr cidr;
    /** The range of the pool that refused it. */
    private final Cidr pool;
    /** The pool's node prefix length. */
    private final int nodePrefixLength;

    CidrNotInPoolException(Cidr cidr, Cidr pool, int nodePrefixLength) {
        super(describe(cidr, pool, nodePrefixLength));
        this.cidr = cidr;
        this.pool = pool;
        this.nodePrefixLength = nodePrefixLength;
    }

    private static String describe(Cidr cidr, Cidr pool, int nodePrefixLength) {
        if (cidr.family() != pool.family()) {
            return cidr + " is " + cidr.family() + " but pool " + pool + " is " + pool.family();
        }
        if (!pool.overlaps(cidr)) {
            return cidr + " is outside pool " + pool;
        }
        return cidr + " is not a /" + nodePrefixLength + " subnet of pool " + pool
                + " (the pool hands out /" + nodePrefixLength + " subnets only)";
    }

    /**
     * Returns the CIDR that was refused.
     *
     * @return the refused CIDR
     */
    public Cidr cidr() {
        return cidr;
    }

    /**
     * Returns the range of the pool that refused the CIDR.
     *
     * @return the pool's cluster range
     */
    public Cidr pool() {
        return pool;
    }

    /**
     * Returns the prefix length of the subnets the pool hands out.
     *
     * @return the pool's node prefix length
     */
    public int nodePrefixLength() {
        return nodePrefixLength;
    }
}
