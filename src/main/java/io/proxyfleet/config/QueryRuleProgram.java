package io.proxyfleet.config;

/**
 * The compiled, ready-to-evaluate form of a set of query rules (regexes compiled once, indexes built).
 * Implemented by the routing layer and built when the rules are loaded to runtime, so that evaluation on the
 * traffic path never compiles anything. Implementations are immutable and thread-safe.
 */
public interface QueryRuleProgram {
    /** The program for an empty rule set: every query keeps its session's default routing. */
    QueryRuleProgram EMPTY = new QueryRuleProgram() { };
}
