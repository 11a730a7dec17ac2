package io.github.podcidr.ipam;

/**
 * Thrown when a pool or a set of pools cannot be built: a node prefix length that is not longer than the cluster
 * prefix, longer than the address, or more than 32 bits longer than the cluster prefix; pools that overlap; no pool
 * at all. The message names both sizes or both ranges and says what is expected.
 */
public final class InvalidPoolException extends IpamException {
    private static final long serialVersionUID = 1L;

    InvalidPoolException(String message) {
        super(message);
    }
}
