package io.proxyfleet.vip;

/**
 * How long an owner may keep the address and how long a new leader waits before it adds it, derived from
 * {@code admin-proxyfleet_vip_lease_ms} (docs/vip.md, "Fencing"). Pure and immutable.
 *
 * <p>Three things remove an owner's address: the VIP manager and its guardian process at {@code valid} after the
 * last committed renewal was sent (when they get the CPU), and the kernel {@code kernelLifetimeSeconds} after the
 * last {@code ip addr change} (whatever runs). The guardian applies a committed renewal to the kernel only while
 * it is {@code fresh}, so the kernel removes the address at the latest {@code fresh + kernelLifetime +
 * KERNEL_EXPIRY_SLACK} after that renewal was sent. Every renewal of the old leader was sent before the new one
 * won, so a new leader that waits longer than both bounds never overlaps the old owner.
 *
 * @param renewMillis           how often the leader commits a renewal
 * @param validMillis           how long after a committed renewal was sent the owner keeps the address
 * @param freshMillis           a committed renewal extends the kernel's lifetime only this soon after it was sent
 * @param kernelLifetimeSeconds the {@code valid_lft} given to the kernel on every renewal (whole seconds)
 * @param takeoverMillis        how long a new leader waits after winning before it adds the address
 */
record LeaseTimings(long renewMillis, long validMillis, long freshMillis, int kernelLifetimeSeconds,
                    long takeoverMillis) {
    private static final int RENEWALS_PER_LEASE = 5;
    /** The owner drops the address this fraction of a lease before the lease could end. */
    private static final int DROP_MARGIN_DIVISOR = 5;
    /**
     * How late the kernel may remove an expired address: its IPv4 lifetime check runs at most once a second
     * (ADDRCONF_TIMER_FUZZ_MAX in net/ipv4/devinet.c), so another address change just before the expiry delays
     * the removal by up to one second; otherwise it rounds up by at most a quarter of one.
     */
    static final long KERNEL_EXPIRY_SLACK_MILLIS = 1_000;
    /** For the kernel's workqueue and the new owner's clock, on top of every bound above. */
    static final long TAKEOVER_MARGIN_MILLIS = 100;
    private static final long MILLIS_PER_SECOND = 1_000;
    /**
     * A committed renewal still extends the kernel's lifetime up to this many tenths of a lease after it was sent:
     * one and a half renewal intervals, so that a commit delayed by a busy host still counts. Every tenth of a
     * lease added here is added to the takeover wait too.
     */
    private static final int FRESH_TENTHS = 3;
    private static final int TENTHS = 10;

    static LeaseTimings of(long leaseMillis) {
        long renew = leaseMillis / RENEWALS_PER_LEASE;
        long valid = leaseMillis - leaseMillis / DROP_MARGIN_DIVISOR;
        // The kernel must not remove the address before the owner's own lease ends.
        int kernelSeconds = (int) Math.max(1, (valid + MILLIS_PER_SECOND - 1) / MILLIS_PER_SECOND);
        long fresh = leaseMillis * FRESH_TENTHS / TENTHS;
        long kernelBound = fresh + kernelSeconds * MILLIS_PER_SECOND + KERNEL_EXPIRY_SLACK_MILLIS;
        long takeover = Math.max(valid, kernelBound) + TAKEOVER_MARGIN_MILLIS;
        return new LeaseTimings(renew, valid, fresh, kernelSeconds, takeover);
    }
}
