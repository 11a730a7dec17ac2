package io.github.podcidr.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.podcidr.ipam.Cidr;
import io.github.podcidr.ipam.PoolExhaustedException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** S2's two failure paths measure the same thing: tryAllocate hands out what allocate does, and null when full. */
class TryAllocateAgreementTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {Implementations.OURS, Implementations.BOOLEAN_ARRAY, Implementations.BIT_SCAN})
    void tryAllocateFollowsAllocateAndReturnsNullWhenFull(String impl) {
        SubnetAllocator throwing = Implementations.create(impl, PoolSpec.parse("10.0.0.0/24>28"));
        SubnetAllocator trying = Implementations.create(impl, PoolSpec.parse("10.0.0.0/24>28"));
        for (int i = 0; i < 16; i++) {
            assertEquals(throwing.allocate(), trying.tryAllocate());
        }
        assertNull(trying.tryAllocate());
        RuntimeException e = assertThrows(RuntimeException.class, throwing::allocate);
        assertEquals(true, e instanceof PoolExhaustedException || e instanceof BaselineExhaustedException);
        Cidr freed = Cidr.parse("10.0.0.32/28");
        trying.release(freed);
        assertEquals(freed, trying.tryAllocate());
    }
}
