package io.proxyfleet.config.checksum;

import io.proxyfleet.config.MysqlUser;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * The {@code mysql_users} checksum of {@link Checksums#mysqlUsers} kept between loads: each account's hashed bytes
 * are laid out once and kept in ProxySQL's account-map order, so that a load that changes a few users patches
 * them in and hashes the kept bytes of all accounts again, without laying out or sorting 100,000 accounts. The
 * value is always the hash of every account, equal to {@link Checksums#mysqlUsers} of the same users listed as
 * {@code main} orders them ({@code ORDER BY username, backend DESC}).
 *
 * <p>Thread ownership: one thread at a time (the admin engine's thread); not thread-safe.
 */
public final class UsersChecksum {
    /**
     * ProxySQL's map order (unsigned key); equal keys (two rows of one user, or a 64-bit collision) in the order
     * {@code main} lists the rows: username in code point order (SQLite's byte order of UTF-8), backend first.
     */
    private static final Comparator<Account> ORDER = (a, b) -> {
        int c = Long.compareUnsigned(a.key, b.key);
        if (c != 0) {
            return c;
        }
        c = compareCodePoints(a.username, b.username);
        return c != 0 ? c : Boolean.compare(b.backend, a.backend);
    };

    private Account[] accounts = new Account[0];
    private final ByteArrayOutputStream scratch = new ByteArrayOutputStream();

    /** One account's place in the maps and its hashed bytes. */
    private record Account(long key, String username, boolean backend, boolean frontend, byte[] bytes) {
    }

    /** Forgets every account and counts {@code users} instead. */
    public void reset(Collection<MysqlUser> users) {
        List<Account> all = new ArrayList<>(users.size());
        for (MysqlUser u : users) {
            if (Checksums.counted(u)) {
                all.add(account(u));
            }
        }
        all.sort(ORDER);
        accounts = all.toArray(new Account[0]);
    }

    /**
     * Replaces the accounts of {@code removed} with those of {@code added}.
     *
     * @throws IllegalArgumentException a removed user that is not counted, or an added one counted already; the
     *                                  accounts are unchanged then
     */
    public void replace(Collection<MysqlUser> removed, Collection<MysqlUser> added) {
        BitSet gone = new BitSet(accounts.length);
        for (MysqlUser u : removed) {
            if (!Checksums.counted(u)) {
                continue;
            }
            int i = Arrays.binarySearch(accounts, slot(u), ORDER);
            if (i < 0 || gone.get(i)) {
                throw new IllegalArgumentException("user " + u.username() + " is not counted");
            }
            gone.set(i);
        }
        List<Account> next = new ArrayList<>(accounts.length - gone.cardinality() + added.size());
        for (int i = 0; i < accounts.length; i++) {
            if (!gone.get(i)) {
                next.add(accounts[i]);
            }
        }
        for (MysqlUser u : added) {
            if (!Checksums.counted(u)) {
                continue;
            }
            Account a = account(u);
            int i = Collections.binarySearch(next, a, ORDER);
            if (i >= 0) {
                throw new IllegalArgumentException("user " + u.username() + " is counted already");
            }
            next.add(-i - 1, a);
        }
        accounts = next.toArray(new Account[0]);
    }

    /** {@link Checksums#mysqlUsers} of the accounts counted now: every account's bytes hashed again. */
    public long value() {
        return mapHash(true) + mapHash(false);
    }

    private long mapHash(boolean backend) {
        SpookyHashV2 hash = new SpookyHashV2(Checksums.USERS_SEED1, Checksums.USERS_SEED2);
        boolean any = false;
        long previous = 0;
        for (Account a : accounts) {
            if (backend ? !a.backend : !a.frontend) {
                continue;
            }
            // ProxySQL's map keeps the first account of a key
            if (!any || a.key != previous) {
                hash.update(a.bytes);
            }
            any = true;
            previous = a.key;
        }
        return any ? hash.finalH1() : 0;
    }

    private Account account(MysqlUser u) {
        return new Account(Checksums.userKey(u.username()), u.username(), u.backend(), u.frontend(),
                Checksums.hashedBytes(scratch, u));
    }

    /** An account to search for: the order never looks at the bytes. */
    private static Account slot(MysqlUser u) {
        return new Account(Checksums.userKey(u.username()), u.username(), u.backend(), u.frontend(), null);
    }

    /** Unicode code point order, which is the byte order of UTF-8 (SQLite's BINARY collation of text). */
    public static int compareCodePoints(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char x = a.charAt(i);
            char y = b.charAt(i);
            if (x != y) {
                // surrogates (code points above U+FFFF) sort after every other char in code point order
                boolean sx = Character.isSurrogate(x);
                boolean sy = Character.isSurrogate(y);
                return sx == sy ? Character.compare(x, y) : sx ? 1 : -1;
            }
        }
        return Integer.compare(a.length(), b.length());
    }
}
