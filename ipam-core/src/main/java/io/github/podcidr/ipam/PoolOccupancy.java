package io.github.podcidr.ipam;

import java.util.Objects;

/**
 * A picture of one pool at one instant: its subnets, in address order, grouped into equal cells, with the number of
 * allocated and reserved subnets in each cell. Small pools get one cell per subnet; larger ones are summarised, each
 * cell covering a block of {@link #subnetsPerCell()} consecutive subnets (a power of two).
 *
 * <pre>{@code
 * PoolOccupancy p = pool.occupancy(65_536);    // 10.244.0.0/16 cut into /24: 256 cells of 1 subnet
 * p.allocated(0);                              // 1 if 10.244.0.0/24 is allocated, else 0
 * p.firstSubnet(255);                          // 10.244.255.0/24
 * }</pre>
 *
 * <p>Immutable. Counts follow {@link PoolStats}: a subnet that is both allocated and in a reserved range counts as
 * allocated only, so {@code allocated(c) + reserved(c) + free(c) == subnetsPerCell()} in every cell, and the sums over
 * all cells equal {@link #stats()}.
 */
public final class PoolOccupancy {
    /** The pool's figures at the same instant. */
    private final PoolStats stats;
    /** Subnets per cell: a power of two, {@code stats.capacity() / cells}, at most 2^31. */
    private final long subnetsPerCell;
    /** Allocated subnets per cell: 0 to subnetsPerCell, which may exceed an int (2^31 in a 2^32-subnet pool). */
    private final long[] allocated;
    /** Reserved, not allocated, subnets per cell: 0 to subnetsPerCell. */
    private final long[] reserved;

    PoolOccupancy(PoolStats stats, long subnetsPerCell, long[] allocated, long[] reserved) {
        this.stats = Objects.requireNonNull(stats, "stats");
        this.subnetsPerCell = subnetsPerCell;
        this.allocated = allocated;
        this.reserved = reserved;
    }

    /**
     * Returns the pool's figures, taken at the same instant as the cells.
     *
     * @return capacity, allocated, reserved
     */
    public PoolStats stats() {
        return stats;
    }

    /**
     * Returns the number of cells: the pool's capacity or the cell limit asked for, whichever is smaller.
     *
     * @return a power of two, at least 1
     */
    public int cells() {
        return allocated.length;
    }

    /**
     * Returns how many consecutive subnets each cell covers.
     *
     * @return a power of two; 1 when every subnet has its own cell
     */
    public long subnetsPerCell() {
        return subnetsPerCell;
    }

    /**
     * Returns the number of allocated subnets in a cell.
     *
     * @param cell 0 to {@code cells() - 1}
     * @return 0 to {@link #subnetsPerCell()}
     */
    public long allocatedCount(int cell) {
        return allocated[cell];
    }

    /**
     * Returns the number of reserved subnets of a cell that are not allocated.
     *
     * @param cell 0 to {@code cells() - 1}
     * @return 0 to {@link #subnetsPerCell()}
     */
    public long reservedCount(int cell) {
        return reserved[cell];
    }

    /**
     * Returns the number of allocated subnets in a cell as an {@code int}, saturating: a cell of a 2^32-subnet pool
     * cut into two cells covers 2^31 subnets, one more than an {@code int} holds. Prefer
     * {@link #allocatedCount(int)}.
     *
     * @param cell 0 to {@code cells() - 1}
     * @return {@code allocatedCount(cell)}, or {@link Integer#MAX_VALUE} if it is larger
     */
    public int allocated(int cell) {
        return saturated(allocated[cell]);
    }

    /**
     * Returns the number of reserved, not allocated, subnets of a cell as an {@code int}, saturating like
     * {@link #allocated(int)}. Prefer {@link #reservedCount(int)}.
     *
     * @param cell 0 to {@code cells() - 1}
     * @return {@code reservedCount(cell)}, or {@link Integer#MAX_VALUE} if it is larger
     */
    public int reserved(int cell) {
        return saturated(reserved[cell]);
    }

    private static int saturated(long count) {
        return (int) Math.min(count, Integer.MAX_VALUE);
    }

    /**
     * Returns the number of free subnets in a cell.
     *
     * @param cell 0 to {@code cells() - 1}
     * @return {@code subnetsPerCell() - allocatedCount(cell) - reservedCount(cell)}
     */
    public long free(int cell) {
        return subnetsPerCell - allocated[cell] - reserved[cell];
    }

    /**
     * Returns the number of the cell that holds a subnet.
     *
     * @param subnetIndex the subnet's number in the pool (see {@link SubnetPool#indexOf(Cidr)})
     * @return {@code subnetIndex / subnetsPerCell()}
     */
    public int cellOf(long subnetIndex) {
        return (int) (subnetIndex / subnetsPerCell);
    }

    /**
     * Returns the first subnet of a cell.
     *
     * @param cell 0 to {@code cells() - 1}
     * @return the subnet numbered {@code cell * subnetsPerCell()} in the pool
     */
    public Cidr firstSubnet(int cell) {
        return SubnetPool.subnetOf(stats.cluster(), stats.nodePrefixLength(), cell * subnetsPerCell);
    }

    @Override
    public String toString() {
        return "PoolOccupancy[" + stats.cluster() + " /" + stats.nodePrefixLength() + ", " + cells() + " cells of "
                + subnetsPerCell + " subnets]";
    }
}
