package io.github.podcidr.bench;

import io.github.podcidr.ipam.Cidr;

/**
 * The one interface the benchmarks drive, so that ipam-core's {@code SubnetPool} and the baselines run the same code
 * in the same JMH run and all return {@link Cidr} objects (building the result is part of what is measured).
 *
 * <p>Implementations: {@link OurAllocator} ({@code "ours"}), {@link BooleanArrayAllocator} ({@code "boolean-array"},
 * the Go podcidr-controller) and {@link BitScanAllocator} ({@code "bit-scan"}, Kubernetes' CIDRSet). None is
 * thread-safe: the benchmarks are single-threaded and the lock is measured where it lives, in the node layer (S8, S9).
 */
public interface SubnetAllocator {

    /**
     * Hands out the next free subnet according to the implementation's policy.
     *
     * @return the subnet, now allocated
     * @throws RuntimeException when no subnet is free ({@code PoolExhaustedException} for ours,
     *     {@link BaselineExhaustedException#INSTANCE} for the baselines)
     */
    Cidr allocate();

    /**
     * Same as {@link #allocate()}, but a full pool gives null instead of an exception: ours calls
     * {@code SubnetPool.tryAllocate()}; the baselines return null where the Go originals return their sentinel error
     * value, which is how Go code fails (no unwinding), so this is the closer port of their failure path.
     *
     * @return the subnet, now allocated, or null if no subnet is free
     */
    Cidr tryAllocate();

    /**
     * Marks a subnet allocated (restore). Idempotent.
     *
     * @param subnet one of the pool's subnets
     * @return true if it was free
     */
    boolean occupy(Cidr subnet);

    /**
     * Marks a subnet allocated from its text, as a restore does with the pod CIDRs read from the API: the text is
     * parsed with {@link Cidr#parse(String)} by every implementation.
     *
     * @param text a subnet of the pool, e.g. {@code 10.0.7.0/24}
     * @return true if it was free
     */
    default boolean occupy(String text) {
        return occupyParsed(Cidr.parse(text), text);
    }

    /**
     * Marks a subnet allocated when both its parsed form and its text are at hand (restore). The baselines read the
     * index from the text, as the Go originals do from theirs, instead of formatting the {@link Cidr} again.
     *
     * @param subnet the parsed subnet
     * @param text the text it was parsed from
     * @return true if it was free
     */
    default boolean occupyParsed(Cidr subnet, String text) {
        return occupy(subnet);
    }

    /**
     * Frees a subnet. Idempotent.
     *
     * @param subnet one of the pool's subnets
     * @return true if it was allocated
     */
    boolean release(Cidr subnet);

    /**
     * Returns the number of subnets.
     *
     * @return the pool's capacity
     */
    long capacity();

    /**
     * Returns the range that is cut up.
     *
     * @return the cluster range
     */
    Cidr cluster();

    /**
     * Returns the prefix length of the subnets handed out.
     *
     * @return the node prefix length
     */
    int nodePrefixLength();

    /**
     * Tells whether a CIDR is one of this pool's subnets.
     *
     * @param cidr any CIDR
     * @return true if it has the node prefix length and lies in the cluster range
     */
    default boolean hasSubnet(Cidr cidr) {
        return cidr.prefixLength() == nodePrefixLength() && cluster().contains(cidr);
    }
}
