package io.github.podcidr.ipam;

import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One cluster range cut into equal subnets, one per node: {@code 10.244.0.0/16} cut into /24 subnets gives 256.
 *
 * <pre>{@code
 * SubnetPool pool = SubnetPool.of(Cidr.parse("10.244.0.0/16"), 24);
 * pool.reserve(Cidr.parse("10.244.255.0/24"));   // never handed out
 * pool.occupy(Cidr.parse("10.244.0.0/24"));      // restored from an existing node
 * Cidr next = pool.allocate();                   // 10.244.1.0/24
 * pool.release(next);
 * Optional<Cidr> maybe = pool.tryAllocate();     // empty instead of an exception when the pool is full
 * }</pre>
 *
 * <p>Four verbs, as in Kubernetes' CIDR set: {@link #allocate()} (or {@link #tryAllocate()}), {@link #occupy(Cidr)},
 * {@link #release(Cidr)} and {@link #stats()}, plus {@link #reserve(Cidr)} and its undo {@link #unreserve(Cidr)}.
 * Subnets are numbered from 0 to {@link #capacity()} - 1 in address order ({@link #subnet(long)},
 * {@link #indexOf(Cidr)}), and {@link #allocatedSubnets()} walks the allocated ones in that order. {@code occupy} and
 * {@code release} are idempotent and counters change only when a subnet changes state. {@code allocate} is next-fit: it returns the first free subnet at or after a
 * cursor that follows the last allocation and wraps round at the end, so a released subnet is handed out again only
 * when the cursor comes round, which leaves time for stale routes to it to disappear.
 *
 * <p>An IPv6 pool never hands out what {@link Cidr#parse(String)} refuses: when its subnets are /96 or longer and
 * it overlaps {@code ::ffff:0:0/96} (IPv4-mapped addresses, e.g. {@code ::/64} cut into /96), that range is reserved
 * from the start and counted in {@link PoolStats#reserved()}. Reserving rather than refusing such a pool: every other
 * subnet of it is an ordinary IPv6 subnet, the one range that cannot be written is known, and a reserved range is
 * what an operator would configure by hand; refusing would reject a configuration for a detail it cannot change.
 * Shorter subnets that contain the range ({@code ::/64} out of {@code ::/32}) are ordinary prefixes and stay free.
 *
 * <p>For {@link NodeIpam}, a pool also holds index ranges for node pod CIDRs wider than one subnet (package-private
 * {@code hold}/{@code unhold}, counted since such ranges may overlap): no subnet in a held range is handed out, a
 * subnet released there is held again, and held subnets count as allocated in {@link #stats()}, {@link
 * #isAllocated(Cidr)} and {@link #occupancy(int)}, so that {@code allocated + reserved + free == capacity} still.
 *
 * <p>Not thread-safe: confine a pool to one thread or guard it with a lock ({@link NodeIpam} does).
 *
 * @implNote Occupancy is a hierarchical bitmap (summary words mark full words below), so {@code allocate} costs
 *     O(log64 n) word operations from the cursor even on a full or fragmented pool: at most 4 levels for 2^24
 *     subnets. Pools up to 2^24 subnets use one dense bitmap (about 1.02 bits per subnet); larger ones (up to 2^32)
 *     keep only 2^16-subnet blocks that are partly used (a sorted array of up to 4,096 offsets, or a bitmap above),
 *     so memory follows what is allocated. Reserved ranges are a sorted set of intervals, held ranges counted
 *     segments ({@code CountedRanges}), both set in the bitmap with range operations whatever their size; subnets
 *     occupied inside them are a second occupancy index, created only when that happens.
 */
public final class SubnetPool {
    /** Most subnets in one pool: 2^32 (Kubernetes stops at 2^16; IPv6 /32 cut into /64 needs 2^32). */
    public static final int MAX_SUBNET_BITS = 32;
    /** Most cells {@link #occupancy(int)} makes for one pool: 2^20 (8 MiB of counts per array at most). */
    public static final int MAX_OCCUPANCY_CELLS = 1 << 20;

    /** IPv4-mapped IPv6 addresses, {@code ::ffff:0:0/96}: subnets of /96 or longer in it cannot be written. */
    static final Cidr IPV4_MAPPED = Cidr.ofNetwork(IpFamily.IPV6, 0, 0xFFFF_0000_0000L, 96);

    /** The range that is cut up. */
    private final Cidr cluster;
    /** Prefix length of every subnet handed out. */
    private final int nodePrefixLength;
    /** Host bits per subnet: family bits minus node prefix length; subnet i starts at cluster + (i << shift). */
    private final int shift;
    /** Number of subnets, 2^(nodePrefixLength - cluster prefix). */
    private final long capacity;
    /** Set bit: the subnet is occupied, reserved, held for a wide claim, or several of these. */
    private final OccupancyIndex used;
    /** Reserved index intervals, start to end (exclusive), disjoint and not adjacent. */
    private final TreeMap<Long, Long> reservedIntervals = new TreeMap<>();
    /**
     * Index ranges held for {@link NodeIpam}'s pod CIDRs wider than a node subnet, counted since two claims may
     * overlap: no subnet they cover is handed out while one of them is held ({@link #hold(long, long)}).
     */
    private final CountedRanges holds = new CountedRanges();
    /**
     * Subnets occupied (handed out or restored) inside a covered interval, reserved or held: their bits in {@link
     * #used} are set for the cover, so this tells them apart. Rare (a node restored there, a range reserved after
     * allocations, a wide claim over plain nodes), so null until it happens; then a sparse index whose memory follows
     * what it holds.
     */
    private OccupancyIndex occupiedInCovered;
    /** Changes of the allocated set, so that an iterator of {@link #allocatedSubnets()} can fail fast. */
    private int modifications;
    /** Where the next search for a free subnet starts, in 0..capacity-1. */
    private long cursor;
    /** The exception of the last failed allocate, reused while {@link #allocated} stays {@link #exhaustedAt}. */
    private PoolExhaustedException exhausted;
    private long exhaustedAt = -1;
    /** Subnets occupied: handed out or restored, inside reserved or held ranges too. */
    private long allocated;
    /** Subnets in reserved ranges, not occupied. */
    private long reserved;
    /** Subnets in held ranges, neither reserved nor occupied: held for wide claims only. */
    private long held;

    private SubnetPool(Cidr cluster, int nodePrefixLength) {
        this.cluster = cluster;
        this.nodePrefixLength = nodePrefixLength;
        this.shift = cluster.family().bits() - nodePrefixLength;
        this.capacity = 1L << (nodePrefixLength - cluster.prefixLength());
        this.used = OccupancyIndex.forCapacity(capacity);
    }

    /**
     * Creates an empty pool.
     *
     * @param cluster the range to cut up, e.g. {@code 10.244.0.0/16}
     * @param nodePrefixLength the prefix length of each subnet, e.g. 24; at least the cluster prefix (equal: the pool
     *     is one subnet, as kube-controller-manager allows), at most 32 (IPv4) or 128 (IPv6), and at most
     *     {@value #MAX_SUBNET_BITS} bits longer than the cluster prefix
     * @return the pool, all subnets free but the IPv4-mapped ones of an IPv6 pool that has them (see the class
     *     description)
     * @throws InvalidPoolException if the sizes do not fit, with both sizes in the message
     */
    public static SubnetPool of(Cidr cluster, int nodePrefixLength) {
        checkShape(cluster, nodePrefixLength);
        SubnetPool pool = new SubnetPool(cluster, nodePrefixLength);
        if (pool.refusesMappedSubnets()) {
            pool.reserve(IPV4_MAPPED);
        }
        return pool;
    }

    /**
     * Checks that a range can be cut into subnets of a prefix length, as {@link #of(Cidr, int)} does, without
     * building the pool (whose bitmap takes up to 2 MiB).
     *
     * @throws InvalidPoolException if the sizes do not fit, with both sizes in the message
     */
    static void checkShape(Cidr cluster, int nodePrefixLength) {
        Objects.requireNonNull(cluster, "cluster");
        int bits = cluster.family().bits();
        int clusterPrefix = cluster.prefixLength();
        if (nodePrefixLength > bits) {
            throw new InvalidPoolException("node prefix length /" + nodePrefixLength + " is longer than an "
                    + cluster.family() + " address (" + bits + " bits); for pool " + cluster
                    + " use /" + clusterPrefix + " to /" + Math.min(bits, clusterPrefix + MAX_SUBNET_BITS));
        }
        if (nodePrefixLength < clusterPrefix) {
            throw new InvalidPoolException("node prefix length /" + nodePrefixLength + " must not be shorter than the"
                    + " cluster prefix of " + cluster + " (/" + clusterPrefix + ") to cut it into subnets; e.g. /"
                    + Math.min(bits, Math.max(clusterPrefix + 1, cluster.family() == IpFamily.IPV4 ? 24 : 64))
                    + " gives " + describeCount(Math.min(bits, Math.max(clusterPrefix + 1,
                    cluster.family() == IpFamily.IPV4 ? 24 : 64)) - clusterPrefix) + " subnets");
        }
        int subnetBits = nodePrefixLength - clusterPrefix;
        if (subnetBits > MAX_SUBNET_BITS) {
            throw new InvalidPoolException("cutting " + cluster + " into /" + nodePrefixLength + " subnets makes 2^"
                    + subnetBits + " subnets; at most 2^" + MAX_SUBNET_BITS + " are supported: use a cluster prefix of /"
                    + (nodePrefixLength - MAX_SUBNET_BITS) + " or longer, or a node prefix of /"
                    + (clusterPrefix + MAX_SUBNET_BITS) + " or shorter");
        }
    }

    /** True if some subnet of this pool lies in {@link #IPV4_MAPPED}, so that the parser would refuse it. */
    private boolean refusesMappedSubnets() {
        return cluster.family() == IpFamily.IPV6 && nodePrefixLength >= IPV4_MAPPED.prefixLength()
                && cluster.overlaps(IPV4_MAPPED);
    }

    private static String describeCount(int bits) {
        return bits < 63 ? Long.toString(1L << bits) : "2^" + bits;
    }

    /**
     * Returns the range this pool cuts up.
     *
     * @return the cluster range
     */
    public Cidr cluster() {
        return cluster;
    }

    /**
     * Returns the prefix length of every subnet this pool hands out.
     *
     * @return the node prefix length
     */
    public int nodePrefixLength() {
        return nodePrefixLength;
    }

    /**
     * Returns the family of the pool.
     *
     * @return the family of {@link #cluster()}
     */
    public IpFamily family() {
        return cluster.family();
    }

    /**
     * Returns the number of subnets, allocated, reserved or free; they are numbered 0 to {@code capacity() - 1}.
     *
     * @return 2^(node prefix length - cluster prefix length), from 1 to 2^{@value #MAX_SUBNET_BITS}
     */
    public long capacity() {
        return capacity;
    }

    /**
     * Hands out the next free subnet at or after the cursor, wrapping round at the end of the pool.
     *
     * @return the subnet, now allocated
     * @throws PoolExhaustedException if no subnet is free (all allocated or reserved)
     */
    public Cidr allocate() {
        long index = allocateIndex();
        if (index == capacity) {
            throw exhausted();
        }
        return subnetAt(index);
    }

    /**
     * Same as {@link #allocate()}, but a full pool gives an empty result instead of an exception, at the cost of a
     * comparison and without allocating anything; for callers that expect exhaustion as a normal outcome.
     *
     * @return the subnet, now allocated; empty if no subnet is free (all allocated or reserved)
     */
    public Optional<Cidr> tryAllocate() {
        long index = allocateIndex();
        return index == capacity ? Optional.empty() : Optional.of(subnetAt(index));
    }

    /** Allocates the next free index from the cursor; {@link #capacity} (an invalid index) if the pool is full. */
    private long allocateIndex() {
        if (allocated + held + reserved == capacity) {
            return capacity; // full: no search needed
        }
        long index = used.nextClear(cursor);
        if (index >= capacity) {
            index = used.nextClear(0);
            if (index >= capacity) {
                return capacity; // the counters say otherwise; checkInvariants reports such a state
            }
        }
        used.set(index);
        allocated++;
        modifications++;
        cursor = index + 1 == capacity ? 0 : index + 1;
        return index;
    }

    /** The exception for a full pool, with its figures; the same instance while they do not change. */
    PoolExhaustedException exhausted() {
        // A full pool's figures change only with the split between allocated (or held) and reserved subnets.
        long inUse = allocated + held;
        if (exhausted != null && exhaustedAt == inUse && exhausted.used() == inUse + reserved) {
            return exhausted;
        }
        PoolExhaustedException e = new PoolExhaustedException("pool " + cluster + " has no free /"
                + nodePrefixLength + " subnet: " + (inUse + reserved) + " of " + capacity + " in use (" + inUse
                + " allocated, " + reserved + " reserved)", cluster, nodePrefixLength, capacity, inUse + reserved);
        exhausted = e;
        exhaustedAt = inUse;
        return e;
    }

    /**
     * Marks a subnet as allocated, as when restoring state from nodes that already have it. Idempotent. A subnet in a
     * reserved range can be occupied (the node has it whatever we think); released, it goes back to reserved. So can
     * a subnet held for a wide claim of {@link NodeIpam} (the node's own pod CIDR); released, it is held again.
     *
     * @param subnet one of this pool's subnets (see {@link #hasSubnet(Cidr)})
     * @return true if the subnet was not occupied before (it may have been held for a wide claim)
     * @throws CidrNotInPoolException if the CIDR is not one of this pool's subnets
     */
    public boolean occupy(Cidr subnet) {
        long index = indexOf(subnet);
        if (isCoveredIndex(index)) {
            if (!occupiedInCovered().set(index)) {
                return false;
            }
            if (isReservedIndex(index)) {
                reserved--;
            } else {
                held--;
            }
            allocated++;
            modifications++;
            return true;
        }
        if (!used.set(index)) {
            return false;
        }
        allocated++;
        modifications++;
        return true;
    }

    private OccupancyIndex occupiedInCovered() {
        if (occupiedInCovered == null) {
            occupiedInCovered = OccupancyIndex.forFewOf(capacity);
        }
        return occupiedInCovered;
    }

    /**
     * Frees an occupied subnet. Idempotent: releasing a free or reserved-only subnet changes nothing. The cursor does
     * not move back, so the subnet is handed out again only when the cursor comes round. A subnet inside a range held
     * for a wide claim of {@link NodeIpam} is not freed but held for that claim until the claim is released.
     *
     * @param subnet one of this pool's subnets
     * @return true if the subnet was occupied
     * @throws CidrNotInPoolException if the CIDR is not one of this pool's subnets
     */
    public boolean release(Cidr subnet) {
        long index = indexOf(subnet);
        if (isCoveredIndex(index)) {
            if (occupiedInCovered == null || !occupiedInCovered.clear(index)) {
                return false;
            }
            allocated--;
            if (isReservedIndex(index)) {
                reserved++;
            } else {
                held++;
            }
            modifications++;
            return true;
        }
        if (!used.clear(index)) {
            return false;
        }
        allocated--;
        modifications++;
        return true;
    }

    /**
     * Tells whether a subnet is allocated (handed out or occupied, or held for a wide claim of {@link NodeIpam}).
     *
     * @param subnet any CIDR
     * @return true if it is one of this pool's subnets and allocated; false for anything else
     */
    public boolean isAllocated(Cidr subnet) {
        if (!hasSubnet(subnet)) {
            return false;
        }
        return isAllocatedIndex(indexOf(subnet));
    }

    /**
     * Tells whether a subnet lies in a reserved range (whether or not it is also allocated).
     *
     * @param subnet any CIDR
     * @return true if it is one of this pool's subnets and reserved
     */
    public boolean isReserved(Cidr subnet) {
        return hasSubnet(subnet) && isReservedIndex(indexOf(subnet));
    }

    /**
     * Tells whether a CIDR is one of this pool's subnets: same family, inside the range, of the node prefix length.
     *
     * @param cidr any CIDR
     * @return true if {@link #occupy(Cidr)} would accept it
     */
    public boolean hasSubnet(Cidr cidr) {
        return cidr.prefixLength() == nodePrefixLength && cluster.contains(cidr);
    }

    /**
     * Never hands out a subnet that overlaps a range, such as a service CIDR or a VPC range that lies inside the
     * cluster range. A range that does not overlap the pool changes nothing. Subnets already allocated in the range
     * stay allocated (and are counted as allocated) until released, when they become reserved. Subnets held for a wide
     * claim of {@link NodeIpam} in the range are reserved from now on, no longer held.
     *
     * @param range the range to keep out, of any size
     * @implNote O(log reserved ranges) for the interval map, plus bitmap range operations and a scan for the occupied
     *     subnets over the part of the range not reserved before: O(capacity / 64) words for a dense pool at most.
     */
    public void reserve(Cidr range) {
        long[] span = overlapIndices(range);
        if (span == null) {
            return;
        }
        // Only the gaps between earlier reserved ranges change: held parts turn reserved, free or occupied parts
        // get covered (their occupied subnets recorded first, as the cover sets their bits).
        forEachUnreservedGap(span[0], span[1], (a, b) -> {
            for (long j = a; j < b; ) {
                if (holds.covers(j)) {
                    long e = Math.min(holds.coveredEnd(j), b);
                    long turned = (e - j) - countSet(occupiedInCovered, j, e);
                    held -= turned;
                    reserved += turned;
                    j = e;
                } else {
                    long e = holds.nextCovered(j, b);
                    reserved += cover(j, e);
                    j = e;
                }
            }
        });
        addReservedInterval(span[0], span[1]);
        modifications++;
    }

    /**
     * Undoes {@link #reserve(Cidr)} for a range: its reserved subnets that are not allocated become free, and those
     * allocated stay allocated (counted as before) but go back to free, not reserved, when released. Parts of other
     * reserved ranges outside this one stay reserved; a range that reserves nothing changes nothing. The IPv4-mapped
     * subnets of an IPv6 pool (see the class description) stay reserved whatever the range. Reserved subnets inside a
     * range held for a wide claim of {@link NodeIpam} become held for it, not free.
     *
     * <pre>{@code
     * pool.reserve(Cidr.parse("10.244.255.0/24"));
     * pool.unreserve(Cidr.parse("10.244.255.0/24"));   // 1: the subnet is free again
     * }</pre>
     *
     * @param range the range to hand out again, of any size
     * @return the number of subnets that became free
     * @implNote O(log reserved ranges) for the interval map plus bitmap range operations over the range, and one step
     *     per occupied subnet inside it.
     */
    public long unreserve(Cidr range) {
        long[] span = overlapIndices(range);
        if (span == null || reservedIntervals.isEmpty()) {
            return 0;
        }
        long from = span[0];
        long to = span[1];
        long coveredBefore = reserved + held;
        Map.Entry<Long, Long> e = reservedIntervals.floorEntry(from);
        if (e == null || e.getValue() <= from) {
            e = reservedIntervals.higherEntry(from);
        }
        while (e != null && e.getKey() < to) {
            long start = e.getKey();
            long end = e.getValue();
            long a = Math.max(from, start);
            long b = Math.min(to, end);
            for (long j = a; j < b; ) {
                if (holds.covers(j)) {
                    long k = Math.min(holds.coveredEnd(j), b);
                    long turned = (k - j) - countSet(occupiedInCovered, j, k);
                    reserved -= turned;
                    held += turned;
                    j = k;
                } else {
                    long k = holds.nextCovered(j, b);
                    reserved -= uncover(j, k);
                    j = k;
                }
            }
            reservedIntervals.remove(start);
            if (start < a) {
                reservedIntervals.put(start, a);
            }
            if (b < end) {
                reservedIntervals.put(b, end);
            }
            e = reservedIntervals.higherEntry(b - 1);
        }
        modifications++;
        if (refusesMappedSubnets() && range.overlaps(IPV4_MAPPED)) {
            reserve(IPV4_MAPPED);
        }
        return coveredBefore - (reserved + held); // nothing is occupied or released here

    }

    /**
     * Holds the subnets numbered [from, to) for a wide claim of {@link NodeIpam}: none of them is handed out until
     * every claim holding it is released with {@link #unhold(long, long)}. Reserved subnets stay reserved and occupied
     * ones stay occupied (released, they are held); the rest counts as allocated, held for the claim.
     *
     * @implNote O(log claims) for the counted ranges, then for the part no claim covered before, a bitmap range
     *     operation and a scan for the occupied subnets (O(span / 64) words for a dense pool, O(span / 2^16) blocks
     *     for a sparse one), whatever the number of subnets.
     */
    void hold(long from, long to) {
        for (long[] fresh : holds.add(from, to)) {
            forEachUnreservedGap(fresh[0], fresh[1], (a, b) -> held += cover(a, b));
        }
        modifications++;
    }

    /**
     * Undoes one {@link #hold(long, long)} of the same range: the subnets no other claim holds, neither reserved nor
     * occupied, become free; occupied ones stay occupied, and freed later they are free.
     *
     * @throws IllegalStateException if the range is not held
     * @implNote as {@link #hold(long, long)}, plus one step per occupied subnet in the part that is uncovered
     */
    void unhold(long from, long to) {
        for (long[] gone : holds.remove(from, to)) {
            forEachUnreservedGap(gone[0], gone[1], (a, b) -> held -= uncover(a, b));
        }
        modifications++;
    }

    /** Calls {@code action} on each maximal part of [from, to) that no reserved interval covers. */
    private void forEachUnreservedGap(long from, long to, SpanAction action) {
        long i = from;
        while (i < to) {
            Map.Entry<Long, Long> covering = reservedIntervals.floorEntry(i);
            if (covering != null && i < covering.getValue()) {
                i = covering.getValue();
                continue;
            }
            Long next = reservedIntervals.higherKey(i);
            long gapEnd = next == null ? to : Math.min(to, next);
            action.run(i, gapEnd);
            i = gapEnd;
        }
    }

    /** An action on the indices [from, to). */
    private interface SpanAction {
        void run(long from, long to);
    }

    /**
     * Covers [from, to), which nothing covered: its occupied subnets are recorded in {@link #occupiedInCovered}, then
     * every bit is set. Returns how many subnets were neither occupied nor covered: those the cover now takes.
     */
    private long cover(long from, long to) {
        if (from >= to) {
            return 0;
        }
        for (long k = used.nextSet(from, to); k < to; k = k + 1 < to ? used.nextSet(k + 1, to) : to) {
            occupiedInCovered().set(k);
        }
        return used.setRange(from, to);
    }

    /**
     * Uncovers [from, to), which nothing covers any more: occupied subnets stay set as plain occupations, the other
     * bits are cleared. Returns how many subnets became free.
     */
    private long uncover(long from, long to) {
        long freed = 0;
        long i = from;
        long k = occupiedInCovered == null ? to : occupiedInCovered.nextSet(from, to);
        while (k < to) {
            freed += used.clearRange(i, k);
            occupiedInCovered.clear(k); // stays set in used: now a plain occupation
            i = k + 1;
            k = i < to ? occupiedInCovered.nextSet(i, to) : to;
        }
        return freed + used.clearRange(i, to);
    }

    /** The number of set indices of an index (null: none) in [from, to). O(set indices + words scanned). */
    private static long countSet(OccupancyIndex index, long from, long to) {
        if (index == null) {
            return 0;
        }
        long n = 0;
        for (long k = index.nextSet(from, to); k < to; k = k + 1 < to ? index.nextSet(k + 1, to) : to) {
            n++;
        }
        return n;
    }

    /**
     * Counts the subnets numbered [from, to) that are held for wide claims only: covered by a held range, neither
     * reserved nor occupied.
     *
     * @implNote O(1) for the whole pool, else O(claims + reserved ranges in the span + occupied subnets in it)
     */
    long heldIn(long from, long to) {
        if (from == 0 && to == capacity) {
            return held;
        }
        long[] n = {0};
        forEachUnreservedGap(from, to, (a, b) -> {
            for (long j = holds.nextCovered(a, b); j < b; j = holds.nextCovered(j, b)) {
                long e = Math.min(holds.coveredEnd(j), b);
                n[0] += (e - j) - countSet(occupiedInCovered, j, e);
                j = e;
            }
        });
        return n[0];
    }

    /** Tells whether a subnet of this pool is held for wide claims only: held, neither reserved nor occupied. */
    boolean isHeldOnly(long index) {
        return holds.covers(index) && !isReservedIndex(index)
                && (occupiedInCovered == null || !occupiedInCovered.get(index));
    }

    /** Tells whether a subnet of this pool is occupied: handed out or restored (not only held or reserved). */
    boolean isOccupied(Cidr subnet) {
        if (!hasSubnet(subnet)) {
            return false;
        }
        long index = indexOf(subnet);
        return isCoveredIndex(index) ? occupiedInCovered != null && occupiedInCovered.get(index) : used.get(index);
    }

    /** The number of occupied subnets (handed out or restored), without those held for wide claims only. */
    long occupiedCount() {
        return allocated;
    }

    /** The number of occupied subnets numbered [from, to): O(1) for the whole pool, else O(occupied in the span). */
    long occupiedIn(long from, long to) {
        if (from == 0 && to == capacity) {
            return allocated;
        }
        long n = 0;
        for (long i = nextOccupied(from, to); i < to; i = i + 1 < to ? nextOccupied(i + 1, to) : to) {
            n++;
        }
        return n;
    }

    /** The first occupied index in [from, to), or {@code to}. O(occupied subnets skipped + words scanned). */
    long nextOccupied(long from, long to) {
        long i = from;
        while (i < to) {
            i = used.nextSet(i, to);
            if (i >= to) {
                return to;
            }
            if (!isCoveredIndex(i)) {
                return i;
            }
            long end = Math.min(coveredEnd(i), to);
            long inside = occupiedInCovered == null ? end : occupiedInCovered.nextSet(i, end);
            if (inside < end) {
                return inside;
            }
            i = end;
        }
        return to;
    }

    /**
     * Returns the subnets numbered [from, to) that are held for wide claims only (neither reserved nor occupied) as
     * the fewest CIDRs that cover exactly them, in address order.
     *
     * @implNote O(claims + reserved ranges + occupied subnets in the span), times at most 32 blocks per run
     */
    List<Cidr> heldBlocks(long from, long to) {
        List<Cidr> out = new ArrayList<>();
        forEachUnreservedGap(from, to, (a, b) -> {
            for (long j = holds.nextCovered(a, b); j < b; j = holds.nextCovered(j, b)) {
                long e = Math.min(holds.coveredEnd(j), b);
                long i = j;
                long k = occupiedInCovered == null ? e : occupiedInCovered.nextSet(j, e);
                while (true) {
                    addBlocks(out, i, k);
                    if (k >= e) {
                        break;
                    }
                    i = k + 1;
                    k = i < e ? occupiedInCovered.nextSet(i, e) : e;
                }
                j = e;
            }
        });
        return out;
    }

    /** Adds [from, to) as aligned blocks of 2^k subnets, each one CIDR, largest first where alignment allows. */
    private void addBlocks(List<Cidr> out, long from, long to) {
        while (from < to) {
            long size = Long.highestOneBit(to - from);
            if (from != 0) {
                size = Math.min(size, Long.lowestOneBit(from)); // a block starts at a multiple of its size
            }
            Cidr first = subnetAt(from);
            out.add(Cidr.ofNetwork(cluster.family(), first.hi(), first.lo(),
                    nodePrefixLength - Long.numberOfTrailingZeros(size)));
            from += size;
        }
    }

    /** The held ranges, counted; for invariant checks. */
    CountedRanges holds() {
        return holds;
    }

    /**
     * Returns the usage figures; subnets held for a wide pod CIDR of {@link NodeIpam} count as allocated.
     *
     * @return a snapshot of capacity, allocated, reserved and free
     */
    public PoolStats stats() {
        return new PoolStats(cluster, nodePrefixLength, capacity, allocated + held, reserved);
    }

    @Override
    public String toString() {
        return "SubnetPool[" + cluster + " /" + nodePrefixLength + ", " + allocated + " allocated, " + held
                + " held, " + reserved + " reserved of " + capacity + "]";
    }

    /**
     * Returns the pool's occupancy grouped into at most {@code maxCells} cells of equal size, for a picture of the
     * pool (see {@link PoolOccupancy}): one cell per subnet when the pool has no more than {@code maxCells} subnets,
     * else blocks of 2^k consecutive subnets.
     *
     * @param maxCells the most cells wanted, 2 to {@value #MAX_OCCUPANCY_CELLS}; rounded down to a power of two
     * @return the counts per cell and the pool's figures, at this instant
     * @throws IllegalArgumentException if {@code maxCells} is outside 2..{@value #MAX_OCCUPANCY_CELLS}
     * @implNote O(capacity / 64 + allocated + reserved and held ranges + cells) word operations for a dense pool
     *     (one scan of the bitmap for the occupied subnets, arithmetic for the ranges); a sparse pool scans only the
     *     blocks that hold subnets. For 2^16 subnets this is about a thousand words.
     */
    public PoolOccupancy occupancy(int maxCells) {
        if (maxCells < 2 || maxCells > MAX_OCCUPANCY_CELLS) {
            throw new IllegalArgumentException("maxCells must be within 2.." + MAX_OCCUPANCY_CELLS + ", e.g. 65536: "
                    + maxCells);
        }
        int cells = (int) Math.min(capacity, Integer.highestOneBit(maxCells));
        long perCell = capacity / cells; // both powers of two; at most 2^32 / 2 = 2^31 subnets per cell
        int cellShift = Long.numberOfTrailingZeros(perCell);
        // long counts: a cell covers up to 2^31 subnets, one more than an int holds
        long[] allocatedIn = new long[cells];
        long[] reservedIn = new long[cells];
        for (Map.Entry<Long, Long> e : reservedIntervals.entrySet()) {
            addToCells(reservedIn, e.getKey(), e.getValue(), cellShift);
        }
        // held for wide claims, outside reserved ranges: counted as allocated, as stats() does
        for (long j = holds.nextCovered(0, capacity); j < capacity; j = holds.nextCovered(j, capacity)) {
            long end = holds.coveredEnd(j);
            forEachUnreservedGap(j, end, (a, b) -> addToCells(allocatedIn, a, b, cellShift));
            j = end;
        }
        for (long i = nextOccupied(0, capacity); i < capacity; i = i + 1 < capacity ? nextOccupied(i + 1, capacity)
                : capacity) {
            int cell = (int) (i >>> cellShift);
            if (isReservedIndex(i)) {
                allocatedIn[cell]++;
                reservedIn[cell]--; // allocated inside a reserved range: counted as allocated, as stats() does
            } else if (!holds.covers(i)) {
                allocatedIn[cell]++; // inside a held range it was counted with the range
            }
        }
        return new PoolOccupancy(stats(), perCell, allocatedIn, reservedIn);
    }

    /** Adds the length of [from, to) to the cells it spans. */
    private static void addToCells(long[] cells, long from, long to, int cellShift) {
        while (from < to) {
            int cell = (int) (from >>> cellShift);
            long cellEnd = (long) (cell + 1) << cellShift;
            long end = Math.min(cellEnd, to);
            cells[cell] += end - from;
            from = end;
        }
    }

    /** The subnet numbered {@code index} of a range cut into subnets of a prefix length (no checks). */
    static Cidr subnetOf(Cidr cluster, int nodePrefixLength, long index) {
        int bitsBelow = cluster.family().bits() - nodePrefixLength;
        long hi = cluster.hi();
        long lo = cluster.lo();
        if (bitsBelow >= 64) {
            hi |= index << (bitsBelow - 64);
        } else {
            lo |= index << bitsBelow;
            if (bitsBelow > 0) {
                hi |= index >>> (64 - bitsBelow); // bits of the index that spill into the high word
            }
        }
        return Cidr.ofNetwork(cluster.family(), hi, lo, nodePrefixLength);
    }

    /**
     * Returns the subnet with a number, 0 being the first subnet of the range, {@code capacity() - 1} the last.
     *
     * @param index 0 to {@code capacity() - 1}
     * @return the subnet, whatever its state
     * @throws IndexOutOfBoundsException if the index is negative or not below {@link #capacity()}
     */
    public Cidr subnet(long index) {
        if (index < 0 || index >= capacity) {
            throw new IndexOutOfBoundsException("subnet index " + index + " is outside pool " + cluster + " /"
                    + nodePrefixLength + ", which has subnets 0 to " + (capacity - 1));
        }
        return subnetAt(index);
    }

    /** The subnet at a valid index. */
    private Cidr subnetAt(long index) {
        long hi = cluster.hi();
        long lo = cluster.lo();
        if (shift >= 64) {
            hi |= index << (shift - 64);
        } else {
            lo |= index << shift;
            if (shift > 0) {
                hi |= index >>> (64 - shift); // bits of the index that spill into the high word
            }
        }
        return Cidr.ofNetwork(cluster.family(), hi, lo, nodePrefixLength);
    }

    /**
     * Returns the number of one of this pool's subnets: the inverse of {@link #subnet(long)}.
     *
     * @param subnet one of this pool's subnets (see {@link #hasSubnet(Cidr)})
     * @return 0 to {@code capacity() - 1}
     * @throws CidrNotInPoolException if the CIDR is not one of this pool's subnets
     */
    public long indexOf(Cidr subnet) {
        if (!hasSubnet(subnet)) {
            throw new CidrNotInPoolException(subnet, cluster, nodePrefixLength);
        }
        return offset(subnet, shift);
    }

    /** (address - cluster address) >>> shift, masked to the pool's index bits; the address must be in the range. */
    private long offset(Cidr cidr, int bitsBelow) {
        long hi = cidr.hi();
        long lo = cidr.lo();
        long value;
        if (bitsBelow >= 64) {
            value = hi >>> (bitsBelow - 64);
        } else if (bitsBelow == 0) {
            value = lo;
        } else {
            value = (lo >>> bitsBelow) | (hi << (64 - bitsBelow));
        }
        return value & (capacity - 1);
    }

    /**
     * The indices [from, to) of the subnets that overlap a range, or null if none does.
     */
    long[] overlapIndices(Cidr range) {
        if (range.family() != cluster.family() || !range.overlaps(cluster)) {
            return null;
        }
        if (range.contains(cluster)) {
            return new long[] {0, capacity};
        }
        long first = offset(range, shift);
        long count = range.prefixLength() >= nodePrefixLength ? 1 : 1L << (nodePrefixLength - range.prefixLength());
        return new long[] {first, first + count};
    }

    /**
     * Returns the allocated subnets (handed out or occupied, inside reserved ranges too, and those held for a wide
     * claim of {@link NodeIpam}) in address order. The view is lazy: nothing is copied, each step finds the next
     * allocated subnet in the occupancy index.
     *
     * @return a view whose iterators fail with {@link ConcurrentModificationException} if the allocated set changes
     *     while they are used
     */
    public Iterable<Cidr> allocatedSubnets() {
        return AllocatedIterator::new;
    }

    /** Allocated in the sense of {@link #stats()}: occupied, or held for a wide claim and not reserved. */
    private boolean isAllocatedIndex(long index) {
        return isReservedIndex(index)
                ? occupiedInCovered != null && occupiedInCovered.get(index)
                : used.get(index);
    }

    /** True if a reserved or held range covers the index, so that its bit in {@link #used} is set for the cover. */
    private boolean isCoveredIndex(long index) {
        return isReservedIndex(index) || holds.covers(index);
    }

    /** The first index at or after {@code index} that no reserved or held range covers. */
    private long coveredEnd(long index) {
        long end = index;
        while (true) {
            long next = end;
            Map.Entry<Long, Long> r = reservedIntervals.floorEntry(next);
            if (r != null && next < r.getValue()) {
                next = r.getValue();
            }
            next = holds.coveredEnd(next);
            if (next == end) {
                return end;
            }
            end = next;
        }
    }

    /** The next allocated index at or after {@code from}, or {@link #capacity} if there is none. */
    private long nextAllocated(long from) {
        long i = from;
        while (i < capacity) {
            i = used.nextSet(i, capacity);
            if (i >= capacity) {
                return capacity;
            }
            Map.Entry<Long, Long> interval = reservedIntervals.floorEntry(i);
            if (interval == null || i >= interval.getValue()) {
                return i; // set and not reserved: occupied or held, allocated either way
            }
            long end = interval.getValue();
            long inside = occupiedInCovered == null ? end : occupiedInCovered.nextSet(i, end);
            if (inside < end) {
                return inside;
            }
            i = end;
        }
        return capacity;
    }

    /** Walks {@link #nextAllocated(long)}; fails fast on a change of the pool. */
    private final class AllocatedIterator implements Iterator<Cidr> {
        private final int expectedModifications = modifications;
        private long next = nextAllocated(0);

        @Override
        public boolean hasNext() {
            return next < capacity;
        }

        @Override
        public Cidr next() {
            if (modifications != expectedModifications) {
                throw new ConcurrentModificationException("pool " + cluster + " changed during the iteration");
            }
            if (next >= capacity) {
                throw new NoSuchElementException();
            }
            Cidr c = subnetAt(next);
            next = next + 1 < capacity ? nextAllocated(next + 1) : capacity;
            return c;
        }
    }

    private boolean isReservedIndex(long index) {
        if (reservedIntervals.isEmpty()) {
            return false;
        }
        Map.Entry<Long, Long> e = reservedIntervals.floorEntry(index);
        return e != null && index < e.getValue();
    }

    private void addReservedInterval(long from, long to) {
        Map.Entry<Long, Long> before = reservedIntervals.floorEntry(from);
        if (before != null && before.getValue() >= from) {
            from = before.getKey();
            to = Math.max(to, before.getValue());
        }
        Map.Entry<Long, Long> next = reservedIntervals.ceilingEntry(from);
        while (next != null && next.getKey() <= to) {
            to = Math.max(to, next.getValue());
            reservedIntervals.remove(next.getKey());
            next = reservedIntervals.ceilingEntry(from);
        }
        reservedIntervals.put(from, to);
    }

    /** Where the next allocation search starts; for tests. */
    long cursor() {
        return cursor;
    }

    /**
     * Moves the cursor just past one of this pool's subnets, so that the next search starts after it; for a restore
     * that resumes where the previous instance's allocations ended.
     */
    void moveCursorPast(Cidr subnet) {
        long index = indexOf(subnet);
        cursor = index + 1 == capacity ? 0 : index + 1;
    }

    /** Estimated heap bytes of the occupancy indexes; for tests and benchmarks. */
    long indexBytes() {
        return used.retainedBytes() + (occupiedInCovered == null ? 0 : occupiedInCovered.retainedBytes());
    }

    /**
     * Recounts the bitmap and the counters; throws {@link IllegalStateException} if they disagree. For tests.
     */
    void checkInvariants() {
        used.checkInvariants();
        holds.checkInvariants();
        long reservedSpan = 0;
        long previousEnd = -1;
        for (Map.Entry<Long, Long> e : reservedIntervals.entrySet()) {
            if (e.getKey() <= previousEnd || e.getValue() <= e.getKey()) {
                throw new IllegalStateException("reserved intervals overlap or are empty: " + reservedIntervals);
            }
            reservedSpan += e.getValue() - e.getKey();
            previousEnd = e.getValue();
            if (used.nextClear(e.getKey()) < e.getValue()) {
                throw new IllegalStateException("a reserved subnet is free in " + e);
            }
        }
        long heldSpan = 0; // held and not reserved
        for (long j = holds.nextCovered(0, capacity); j < capacity; j = holds.nextCovered(j, capacity)) {
            long end = holds.coveredEnd(j);
            if (end > capacity) {
                throw new IllegalStateException("a held range ends past the pool: " + holds);
            }
            if (used.nextClear(j) < end) {
                throw new IllegalStateException("a held subnet is free in [" + j + ", " + end + ")");
            }
            long[] span = {0};
            forEachUnreservedGap(j, end, (a, b) -> span[0] += b - a);
            heldSpan += span[0];
            j = end;
        }
        long inReserved = 0;
        long inHeld = 0;
        if (occupiedInCovered != null) {
            occupiedInCovered.checkInvariants();
            for (long i = occupiedInCovered.nextSet(0, capacity); i < capacity;
                    i = i + 1 < capacity ? occupiedInCovered.nextSet(i + 1, capacity) : capacity) {
                if (isReservedIndex(i)) {
                    inReserved++;
                } else if (holds.covers(i)) {
                    inHeld++;
                } else {
                    throw new IllegalStateException("index " + i + " is marked occupied-in-covered outside a range");
                }
            }
        }
        if (reserved != reservedSpan - inReserved) {
            throw new IllegalStateException("reserved count " + reserved + " but intervals hold " + reservedSpan
                    + " of which " + inReserved + " are allocated");
        }
        if (held != heldSpan - inHeld) {
            throw new IllegalStateException("held count " + held + " but held ranges cover " + heldSpan
                    + " unreserved subnets of which " + inHeld + " are occupied");
        }
        if (allocated + held + reserved != used.cardinality()) {
            throw new IllegalStateException("allocated " + allocated + " + held " + held + " + reserved " + reserved
                    + " != " + used.cardinality() + " set bits");
        }
        if (cursor < 0 || cursor >= capacity) {
            throw new IllegalStateException("cursor " + cursor + " outside 0.." + (capacity - 1));
        }
    }
}
