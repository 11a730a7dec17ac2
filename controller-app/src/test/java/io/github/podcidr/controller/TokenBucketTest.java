package io.github.podcidr.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Test
    void burstIsFreeThenOneTokenPerInterval() {
        TokenBucket b = new TokenBucket(10, 3, now::get);
        assertEquals(0, b.reserve());
        assertEquals(0, b.reserve());
        assertEquals(0, b.reserve());
        assertEquals(100_000_000L, b.reserve(), "4th request waits 1/qps");
        assertEquals(200_000_000L, b.reserve(), "5th waits behind the 4th: arrival order");
    }

    @Test
    void refillsWithTimeUpToBurst() {
        TokenBucket b = new TokenBucket(50, 2, now::get);
        b.reserve();
        b.reserve();
        now.addAndGet(10_000_000_000L); // 10 s idle: refills to the burst, no more
        assertEquals(0, b.reserve());
        assertEquals(0, b.reserve());
        assertEquals(20_000_000L, b.reserve());
    }

    @Test
    void rejectsUnusableSettings() {
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(5, 0));
    }
}
