package io.proxyfleet.routing;

import java.util.Arrays;

/**
 * Remembers, per digest text, the outcome of every {@code match_digest} regex of one program. The outcome depends
 * only on the digest text and the regexes, and digests repeat by nature, so a digest seen before is routed with
 * no regex work at all; a new digest pays for all the program's match_digest regexes once.
 *
 * <p>Direct-mapped and lossy: a slot holds the last digest hashed to it. Entries are immutable (final fields) and
 * compared on the full digest text, not only the hash, so hits are exact. Event loops share the table through
 * plain array stores: a racing reader sees an older entry, another digest's entry (rejected by the text check) or
 * null, and then computes the entry itself. Owned by its {@link CompiledRules}; thread-safe as described.
 */
final class DigestMatchCache {
    /** Slots in the table; a power of two. */
    private static final int SLOTS = 4096;

    private final RuleRegex[] regexes;
    private final Entry[] table = new Entry[SLOTS];

    /** The match_digest outcomes for one digest text; bit i is regex i's answer (before negation). */
    static final class Entry {
        private final long hash;
        private final byte[] text;
        private final long[] matched;

        private Entry(long hash, byte[] text, long[] matched) {
            this.hash = hash;
            this.text = text;
            this.matched = matched;
        }

        boolean matched(int index) {
            return (matched[index >>> 6] & (1L << index)) != 0;
        }
    }

    DigestMatchCache(RuleRegex[] regexes) {
        this.regexes = regexes;
    }

    /** The outcomes for the context's current digest, computed (on the caller's thread) if not cached. */
    Entry lookup(QueryContext ctx, CompiledRules program) {
        QueryDigest digest = ctx.digest();
        long hash = digest.hash();
        int slot = (int) (hash ^ (hash >>> 32)) & (SLOTS - 1);
        Entry e = table[slot];
        byte[] text = digest.textBytes();
        int len = digest.textLength();
        if (e != null && e.hash == hash && Arrays.equals(e.text, 0, e.text.length, text, 0, len)) {
            return e;
        }
        CharSequence chars = digest.text();
        boolean lineBreaks = RuleRegex.hasLineBreak(chars);
        long[] matched = new long[(regexes.length + 63) >>> 6];
        for (int i = 0; i < regexes.length; i++) {
            if (regexes[i].find(ctx, program, chars, lineBreaks)) {
                matched[i >>> 6] |= 1L << i;
            }
        }
        Entry fresh = new Entry(hash, Arrays.copyOf(text, len), matched);
        table[slot] = fresh;
        return fresh;
    }
}
