package io.github.podcidr.k8s;

import java.time.Duration;
import java.util.Objects;

/**
 * How replicas elect the one that writes: a {@code coordination.k8s.io/v1} Lease named {@code leaseName} in
 * {@code namespace}, held by {@code identity}. Defaults as client-go and the Go podcidr-controller: 15 s lease,
 * 10 s renew deadline, 2 s retry period.
 *
 * @param enabled false to run without election (one replica only)
 * @param namespace the Lease's namespace
 * @param leaseName the Lease's name
 * @param identity this replica's identity, unique among replicas (pod name, or host name and a random suffix)
 * @param leaseDuration how long a standby waits after the last renewal it saw before taking over
 * @param renewDeadline how long the leader keeps trying to renew before it gives up (and stops writing)
 * @param retryPeriod pause between tries to acquire or renew
 */
public record LeaderElectionSettings(boolean enabled, String namespace, String leaseName, String identity,
                                     Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {

    /**
     * Checks the durations the way the client's elector needs them.
     *
     * @param enabled whether election is on
     * @param namespace Lease namespace
     * @param leaseName Lease name
     * @param identity replica identity
     * @param leaseDuration lease duration
     * @param renewDeadline renew deadline
     * @param retryPeriod retry period
     */
    public LeaderElectionSettings {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(leaseName, "leaseName");
        Objects.requireNonNull(identity, "identity");
        if (leaseDuration.compareTo(renewDeadline) <= 0) {
            throw new InvalidSettingException("leader election lease duration " + leaseDuration.toSeconds()
                    + "s must be longer than the renew deadline " + renewDeadline.toSeconds() + "s, e.g. 15s and 10s");
        }
        if (renewDeadline.compareTo(retryPeriod) <= 0) {
            throw new InvalidSettingException("leader election renew deadline " + renewDeadline.toMillis()
                    + "ms must be longer than the retry period " + retryPeriod.toMillis() + "ms, e.g. 10s and 2s");
        }
        if (retryPeriod.isNegative() || retryPeriod.isZero()) {
            throw new InvalidSettingException("leader election retry period must be positive, e.g. 2s");
        }
        if (leaseDuration.toSeconds() < 1) {
            throw new InvalidSettingException("leader election lease duration must be at least 1s (a Lease counts"
                    + " whole seconds), e.g. 15s");
        }
    }

    /**
     * Returns the client-go defaults for a Lease in a namespace.
     *
     * @param namespace the Lease's namespace
     * @param leaseName the Lease's name
     * @param identity this replica's identity
     * @return enabled election with 15 s / 10 s / 2 s
     */
    public static LeaderElectionSettings defaults(String namespace, String leaseName, String identity) {
        return new LeaderElectionSettings(true, namespace, leaseName, identity, Duration.ofSeconds(15),
                Duration.ofSeconds(10), Duration.ofSeconds(2));
    }

    /**
     * Returns a copy with other durations.
     *
     * @param lease lease duration
     * @param renew renew deadline
     * @param retry retry period
     * @return the copy
     */
    public LeaderElectionSettings withDurations(Duration lease, Duration renew, Duration retry) {
        return new LeaderElectionSettings(enabled, namespace, leaseName, identity, lease, renew, retry);
    }

    /**
     * Returns a copy with election switched on or off.
     *
     * @param on whether to elect
     * @return the copy
     */
    public LeaderElectionSettings withEnabled(boolean on) {
        return new LeaderElectionSettings(on, namespace, leaseName, identity, leaseDuration, renewDeadline,
                retryPeriod);
    }
}
