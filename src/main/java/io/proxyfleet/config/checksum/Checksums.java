package io.proxyfleet.config.checksum;

import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.MysqlUser;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * ProxySQL-compatible configuration checksums (reference §4.2-§4.3). Every function is pure and thread-safe.
 *
 * <p>All values are the first 64-bit half ({@code h1}) of a {@link SpookyHashV2} with the seeds ProxySQL uses for
 * that purpose; strings are hashed as their UTF-8 bytes, integers as their little-endian bytes, exactly as a
 * ProxySQL node on x86-64 does, so checksums of equal configurations are equal across ProxySQL and ProxyFleet.
 */
public final class Checksums {

    /** The module names in the order the global checksum visits them (LDAP is never loaded here). */
    public static final List<String> GLOBAL_CHECKSUM_ORDER = List.of(
            "admin_variables", "mysql_query_rules", "mysql_servers", "mysql_servers_v2", "mysql_users",
            "mysql_variables", "proxysql_servers");

    private static final long ROWS_SEED1 = 19;
    private static final long ROWS_SEED2 = 3;
    private static final long GLOBAL_SEED1 = 9;
    private static final long GLOBAL_SEED2 = 5;
    static final long USERS_SEED1 = 13;
    static final long USERS_SEED2 = 4;
    private static final long USER_KEY_SEED1 = 1;
    private static final long USER_KEY_SEED2 = 2;
    /** ProxySQL prints into a buffer and then turns every NUL/space up to this length into '0'. */
    private static final int FORMATTED_LENGTH = 18;

    private Checksums() {
    }

    /**
     * ProxySQL's {@code raw_checksum} of a result set: 0 for no rows, else the hash of every cell's text in row and
     * column order with no separators. A {@code null} cell contributes nothing (so it equals {@code ''}).
     */
    public static long rawChecksum(List<? extends List<String>> rows) {
        if (rows.isEmpty()) {
            return 0;
        }
        SpookyHashV2 hash = new SpookyHashV2(ROWS_SEED1, ROWS_SEED2);
        for (List<String> row : rows) {
            for (String cell : row) {
                if (cell != null) {
                    hash.update(cell.getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        return hash.finalH1();
    }

    /**
     * The checksum string as ProxySQL prints it: {@code "0x"}, the low 32 bits then the high 32 bits in upper-case
     * hex without leading zeros, right-padded with {@code '0'} to 18 characters. This is not the canonical hex of
     * the number when a half has leading zeros; peers compare these strings, so the quirk is reproduced.
     */
    public static String format(long hash) {
        StringBuilder s = new StringBuilder(FORMATTED_LENGTH);
        s.append("0x")
                .append(Integer.toHexString((int) hash).toUpperCase())
                .append(Integer.toHexString((int) (hash >>> 32)).toUpperCase());
        while (s.length() < FORMATTED_LENGTH) {
            s.append('0');
        }
        return s.toString();
    }

    /**
     * The {@code mysql_users} module hash (§4.3.4): the sum of the backend-map hash and the frontend-map hash.
     * Only active users with {@code default_hostgroup >= 0} take part; each map is ordered by the unsigned
     * SpookyHash(1,2) of the username, and a user that is both frontend and backend counts in both maps.
     */
    public static long mysqlUsers(Collection<MysqlUser> users) {
        // ProxySQL's account maps, ordered by key, first account of a key kept: sorted arrays instead of two
        // TreeMaps. Each account's hashed bytes are laid out once, in input order: hashing in key order then reads
        // one array per account instead of chasing a dozen references through a cold heap (at 100,000 users that
        // chasing, not the hash, was most of a LOAD).
        List<Keyed> accounts = new ArrayList<>(users.size());
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        int position = 0;
        for (MysqlUser user : users) {
            position++;
            if (counted(user)) {
                accounts.add(new Keyed(userKey(user.username()), position, user.backend(), user.frontend(),
                        hashedBytes(record, user)));
            }
        }
        accounts.sort(Keyed.ORDER);
        return accountMapHash(accounts, true) + accountMapHash(accounts, false);
    }

    /** Whether {@code user} takes part in the {@code mysql_users} hash at all. */
    static boolean counted(MysqlUser user) {
        return user.active() && user.defaultHostgroup() >= 0 && (user.backend() || user.frontend());
    }

    /**
     * An account's hashed bytes with its account-map key, its position in the input (the first of a key wins) and
     * the maps it belongs to.
     */
    private record Keyed(long key, int position, boolean backend, boolean frontend, byte[] bytes) {
        static final Comparator<Keyed> ORDER = (a, b) -> {
            int c = Long.compareUnsigned(a.key, b.key);
            return c != 0 ? c : Integer.compare(a.position, b.position);
        };
    }

    /** What ProxySQL hashes of one account, in its order. */
    static byte[] hashedBytes(ByteArrayOutputStream into, MysqlUser u) {
        into.reset();
        into.write(u.useSsl() ? 1 : 0);
        writeLittleEndian(into, u.defaultHostgroup());
        into.write(u.schemaLocked() ? 1 : 0);
        into.write(u.transactionPersistent() ? 1 : 0);
        into.write(u.fastForward() ? 1 : 0);
        writeLittleEndian(into, u.maxConnections());
        into.writeBytes(utf8(u.username()));
        into.writeBytes(utf8(u.password()));
        into.writeBytes(utf8(u.defaultSchema()));
        into.writeBytes(utf8(u.comment()));
        into.writeBytes(utf8(u.attributes()));
        return into.toByteArray();
    }

    private static void writeLittleEndian(ByteArrayOutputStream into, int v) {
        for (int i = 0; i < Integer.BYTES; i++) {
            into.write(v >>> (8 * i));
        }
    }

    /** The ordering key of a user in ProxySQL's account maps. */
    static long userKey(String username) {
        byte[] name = username.getBytes(StandardCharsets.UTF_8);
        return SpookyHashV2.hash128(name, 0, name.length, USER_KEY_SEED1, USER_KEY_SEED2)[0];
    }

    /** The hash of the backend or the frontend account map, from all accounts in key order. */
    private static long accountMapHash(List<Keyed> sorted, boolean backend) {
        SpookyHashV2 hash = new SpookyHashV2(USERS_SEED1, USERS_SEED2);
        boolean any = false;
        long previous = 0;
        for (Keyed k : sorted) {
            if (backend ? !k.backend() : !k.frontend()) {
                continue;
            }
            if (!any || k.key() != previous) {
                hash.update(k.bytes());
            }
            any = true;
            previous = k.key();
        }
        return any ? hash.finalH1() : 0;
    }

    private static byte[] utf8(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The {@code mysql_servers_v2} module hash (§4.2): SpookyHash(19,3) over the 8-byte little-endian value of each
     * non-zero table hash, in the given order (servers, replication, group replication, galera, aurora, hostgroup
     * attributes, SSL params); 0 when every table is empty.
     */
    public static long mysqlServersV2(long... tableHashes) {
        SpookyHashV2 hash = new SpookyHashV2(ROWS_SEED1, ROWS_SEED2);
        boolean any = false;
        byte[] int64 = new byte[Long.BYTES];
        for (long h : tableHashes) {
            if (h == 0) {
                continue;
            }
            any = true;
            hash.update(littleEndian(int64, h));
        }
        return any ? hash.finalH1() : 0;
    }

    private static byte[] littleEndian(byte[] into, long v) {
        for (int i = 0; i < Long.BYTES; i++) {
            into[i] = (byte) (v >>> (8 * i));
        }
        return into;
    }

    /** The {@code mysql_query_rules} module hash: rules hash plus fast-routing hash, wrapping like uint64. */
    public static long queryRules(long rulesHash, long fastRoutingHash) {
        return rulesHash + fastRoutingHash;
    }

    /**
     * The global checksum (§4.3.5) served by {@code SELECT GLOBAL_CHECKSUM()}: SpookyHash(9,5) over, for each module
     * of {@link #GLOBAL_CHECKSUM_ORDER} whose version is not 0, its checksum string then its 8-byte version; the
     * unsigned result halved so that it is a non-negative signed 64-bit number.
     */
    public static long globalChecksum(Map<String, ModuleVersion> modules) {
        SpookyHashV2 hash = new SpookyHashV2(GLOBAL_SEED1, GLOBAL_SEED2);
        byte[] int64 = new byte[Long.BYTES];
        for (String name : GLOBAL_CHECKSUM_ORDER) {
            ModuleVersion m = modules.get(name);
            if (m == null || m.version() == 0) {
                continue;
            }
            hash.update(utf8(m.checksum()));
            hash.update(littleEndian(int64, m.version()));
        }
        return hash.finalH1() >>> 1;
    }
}
