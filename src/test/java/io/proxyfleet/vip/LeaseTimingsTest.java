package io.proxyfleet.vip;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LeaseTimingsTest {

    @Test
    void theDefaultLeaseGivesAOneSecondKernelLifetimeAndA2400MsTakeover() {
        LeaseTimings t = LeaseTimings.of(1_000);
        assertThat(t.renewMillis()).isEqualTo(200);
        assertThat(t.validMillis()).isEqualTo(800);
        assertThat(t.freshMillis()).isEqualTo(300);
        assertThat(t.kernelLifetimeSeconds()).isEqualTo(1);
        assertThat(t.takeoverMillis()).isEqualTo(2_400);
    }

    @Test
    void aNewOwnerAlwaysWaitsLongerThanTheOldAddressCanLive() {
        for (long lease = VipManager.MIN_LEASE_MILLIS; lease <= 60_000; lease += 50) {
            LeaseTimings t = LeaseTimings.of(lease);
            long kernelRemovesBy = t.freshMillis() + t.kernelLifetimeSeconds() * 1_000L
                    + LeaseTimings.KERNEL_EXPIRY_SLACK_MILLIS;
            assertThat(t.takeoverMillis()).as("lease %d", lease).isGreaterThan(kernelRemovesBy)
                    .isGreaterThan(t.validMillis());
            // The kernel never removes the address before the owner's own lease ends.
            assertThat(t.kernelLifetimeSeconds() * 1_000L).as("lease %d", lease).isGreaterThanOrEqualTo(t.validMillis());
            assertThat(t.freshMillis()).isPositive().isLessThan(t.validMillis());
        }
    }
}
