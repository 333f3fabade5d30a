/**
 * The query processor: ProxySQL-compatible digests ({@link io.proxyfleet.routing.QueryDigest}), query rules
 * compiled at LOAD time ({@link io.proxyfleet.routing.RuleCompiler} → {@link io.proxyfleet.routing.CompiledRules})
 * and evaluated per query, and the per-query classification the session needs for multiplexing
 * ({@link io.proxyfleet.routing.QueryClassifier}, {@link io.proxyfleet.routing.SetStatementParser}).
 *
 * <p>Pure and network-free. Compiled programs are immutable and shared by all event loops; the per-query objects
 * ({@link io.proxyfleet.routing.QueryContext}, {@link io.proxyfleet.routing.RoutingDecision},
 * {@link io.proxyfleet.routing.QueryDigest}) are reused by one session on its event-loop thread, so the common
 * path allocates nothing.
 */
package io.proxyfleet.routing;
