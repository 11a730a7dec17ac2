package io.github.podcidr.k8s;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * The lifecycle the real-tier test classes share: one control plane per class ({@link RealFixture}), and after each
 * test the replicas it started ({@link #replicas}) closed, the 403 check and the reset of {@link
 * RealFixture#afterTest}.
 */
abstract class RealTier {
    static RealFixture f;
    /** The replicas the current test started, or null. */
    RealReplicas replicas;

    @BeforeAll
    static void startControlPlane() {
        f = RealFixture.start();
    }

    @AfterAll
    static void stopControlPlane() {
        if (f != null) {
            f.close();
            f = null;
        }
    }

    @AfterEach
    void afterTest() {
        RealReplicas r = replicas;
        replicas = null;
        f.afterTest(r);
    }
}
