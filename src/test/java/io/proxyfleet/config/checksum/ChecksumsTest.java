package io.proxyfleet.config.checksum;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.MysqlUser;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ChecksumsTest {

    private static long spooky(byte[] bytes, long s1, long s2) {
        return SpookyHashV2.hash128(bytes, 0, bytes.length, s1, s2)[0];
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            // the docs' example: low half printed first
            "0xD0DB12D02220DDA8, 0x2220DDA8D0DB12D0",
            "0x0000000000000000, 0x0000000000000000",
            // quirk of §4.3.3: halves are not zero padded, the string is right-padded to 18 characters
            "0x123456780000ABCD, 0xABCD123456780000",
            "0x0000000100000002, 0x2100000000000000",
            "0x00000000FFFFFFFF, 0xFFFFFFFF00000000",
            "0xFFFFFFFF00000000, 0x0FFFFFFFF0000000",
            "0x000000000000000A, 0xA000000000000000",
            "0x8000000000000001, 0x1800000000000000",
    })
    void formatsLikeProxySql(String hash, String expected) {
        assertThat(Checksums.format(Long.parseUnsignedLong(hash.substring(2), 16))).isEqualTo(expected.strip());
    }

    @Test
    void rawChecksumOfNoRowsIsZero() {
        assertThat(Checksums.rawChecksum(List.of())).isZero();
        assertThat(Checksums.format(Checksums.rawChecksum(List.of()))).isEqualTo("0x0000000000000000");
    }

    @Test
    void rawChecksumHashesTheConcatenatedCellsWithSeeds19And3() {
        List<List<String>> rows = List.of(List.of("127.0.0.1", "6032", "0", ""), List.of("10.0.0.2", "6032", "1", "x"));
        assertThat(Checksums.rawChecksum(rows)).isEqualTo(spooky(ascii("127.0.0.1" + "6032" + "0" + "" + "10.0.0.2" + "6032" + "1" + "x"), 19, 3));
    }

    @Test
    void rawChecksumHasNoSeparatorsAndTreatsNullAsEmpty() {
        assertThat(Checksums.rawChecksum(List.of(List.of("ab", "c"))))
                .isEqualTo(Checksums.rawChecksum(List.of(List.of("a", "bc"))))
                .isEqualTo(Checksums.rawChecksum(List.of(List.of("a"), List.of("b", "c"))));
        List<String> withNull = new ArrayList<>(Arrays.asList("a", null, "b"));
        assertThat(Checksums.rawChecksum(List.of(withNull))).isEqualTo(Checksums.rawChecksum(List.of(List.of("a", "", "b"))));
        // a single row of empty cells is not "no rows": it is the hash of zero bytes, not 0
        assertThat(Checksums.rawChecksum(List.of(List.of("")))).isEqualTo(spooky(new byte[0], 19, 3)).isNotZero();
    }

    @Test
    void rawChecksumHashesUtf8Bytes() {
        assertThat(Checksums.rawChecksum(List.of(List.of("é")))).isEqualTo(spooky(new byte[] {(byte) 0xC3, (byte) 0xA9}, 19, 3));
    }

    @Test
    void queryRulesWrapsLikeUnsigned64() {
        assertThat(Checksums.queryRules(0xFFFFFFFFFFFFFFFFL, 2)).isEqualTo(1);
        assertThat(Checksums.queryRules(5, 0)).isEqualTo(5);
    }

    @Test
    void serversV2SkipsEmptyTablesAndHashesLittleEndianValues() {
        assertThat(Checksums.mysqlServersV2(0, 0, 0, 0, 0, 0, 0)).isZero();
        long servers = 0x0102030405060708L;
        long attributes = 0xF0E0D0C0B0A09080L;
        byte[] expected = {8, 7, 6, 5, 4, 3, 2, 1,
                (byte) 0x80, (byte) 0x90, (byte) 0xA0, (byte) 0xB0, (byte) 0xC0, (byte) 0xD0, (byte) 0xE0, (byte) 0xF0};
        assertThat(Checksums.mysqlServersV2(servers, 0, 0, 0, 0, attributes, 0)).isEqualTo(spooky(expected, 19, 3));
        assertThat(Checksums.mysqlServersV2(servers, 0, 0, 0, 0, attributes, 0))
                .isNotEqualTo(Checksums.mysqlServersV2(attributes, 0, 0, 0, 0, servers, 0));
    }

    @Test
    void globalChecksumVisitsModulesInFixedOrderSkipsVersionZeroAndHalves() {
        Map<String, ModuleVersion> modules = new LinkedHashMap<>();
        // inserted in reverse order on purpose: the result must not depend on map order
        modules.put("proxysql_servers", new ModuleVersion(2, 1700000001, "0x0000000000000000"));
        modules.put("mysql_users", new ModuleVersion(0, 0, "0x1111111111111111"));
        modules.put("admin_variables", new ModuleVersion(1, 1700000000, "0x2220DDA8D0DB12D0"));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(ascii("0x2220DDA8D0DB12D0"));
        bytes.writeBytes(new byte[] {1, 0, 0, 0, 0, 0, 0, 0});
        bytes.writeBytes(ascii("0x0000000000000000"));
        bytes.writeBytes(new byte[] {2, 0, 0, 0, 0, 0, 0, 0});
        long expected = spooky(bytes.toByteArray(), 9, 5) >>> 1;
        assertThat(Checksums.globalChecksum(modules)).isEqualTo(expected).isNotNegative();
        assertThat(Checksums.globalChecksum(new HashMap<>(modules))).isEqualTo(expected);
    }

    @Test
    void globalChecksumChangesWithAVersionBump() {
        Map<String, ModuleVersion> v1 = Map.of("mysql_variables", new ModuleVersion(1, 10, "0xABCD123456780000"));
        Map<String, ModuleVersion> v2 = Map.of("mysql_variables", new ModuleVersion(2, 10, "0xABCD123456780000"));
        assertThat(Checksums.globalChecksum(v1)).isNotEqualTo(Checksums.globalChecksum(v2));
    }

    // ---- mysql_users (§4.3.4), hand-built byte layout

    private static byte[] entry(MysqlUser u) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(u.useSsl() ? 1 : 0);
        b.writeBytes(le32(u.defaultHostgroup()));
        b.write(u.schemaLocked() ? 1 : 0);
        b.write(u.transactionPersistent() ? 1 : 0);
        b.write(u.fastForward() ? 1 : 0);
        b.writeBytes(le32(u.maxConnections()));
        b.writeBytes(ascii(u.username()));
        b.writeBytes(ascii(u.password()));
        b.writeBytes(ascii(u.defaultSchema() == null ? "" : u.defaultSchema()));
        b.writeBytes(ascii(u.comment()));
        b.writeBytes(ascii(u.attributes()));
        return b.toByteArray();
    }

    private static byte[] le32(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    private static long mapHash(List<MysqlUser> users) {
        if (users.isEmpty()) {
            return 0;
        }
        List<MysqlUser> sorted = new ArrayList<>(users);
        sorted.sort(Comparator.comparing(u -> spooky(ascii(u.username()), 1, 2), Long::compareUnsigned));
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        sorted.forEach(u -> all.writeBytes(entry(u)));
        return spooky(all.toByteArray(), 13, 4);
    }

    @Test
    void usersHashIsBackendMapPlusFrontendMapInKeyOrder() {
        MysqlUser app = new MysqlUser("app", "*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9", true, true, 10, "shop",
                false, true, false, true, true, 200, "{}", "main app");
        MysqlUser report = new MysqlUser("report", "secret", true, false, 20, null, true, false, true,
                true, false, 10000, "", "");
        MysqlUser webOnly = new MysqlUser("web", "pw", true, false, 30, null, false, true, false,
                false, true, 5, "", "fe");
        long expected = mapHash(List.of(app, report)) + mapHash(List.of(app, webOnly));
        assertThat(Checksums.mysqlUsers(List.of(webOnly, report, app))).isEqualTo(expected);
        assertThat(Checksums.mysqlUsers(List.of(app, report, webOnly))).isEqualTo(expected);
    }

    @Test
    void usersHashIgnoresInactiveAndNegativeHostgroupUsers() {
        MysqlUser app = MysqlUser.of("app", "pw", 0);
        MysqlUser inactive = new MysqlUser("old", "pw", false, false, 0, null, false, true, false, true, true,
                10000, "", "");
        MysqlUser adminLike = MysqlUser.of("admin", "admin", -1);
        assertThat(Checksums.mysqlUsers(List.of(app, inactive, adminLike))).isEqualTo(Checksums.mysqlUsers(List.of(app)));
        assertThat(Checksums.mysqlUsers(List.of(inactive, adminLike))).isZero();
        assertThat(Checksums.mysqlUsers(List.of())).isZero();
    }

    @Test
    void usersHashSeesEveryHashedField() {
        MysqlUser base = MysqlUser.of("app", "pw", 1);
        long h = Checksums.mysqlUsers(List.of(base));
        assertThat(Checksums.mysqlUsers(List.of(MysqlUser.of("app", "pw2", 1)))).isNotEqualTo(h);
        assertThat(Checksums.mysqlUsers(List.of(MysqlUser.of("app", "pw", 2)))).isNotEqualTo(h);
        assertThat(Checksums.mysqlUsers(List.of(new MysqlUser("app", "pw", true, false, 1, null, false, true, false,
                true, true, 9999, "", "")))).isNotEqualTo(h);
    }

    /** Users as main lists them to the load: username in code point order, backend row first. */
    private static List<MysqlUser> mainOrder(java.util.Collection<MysqlUser> users) {
        List<MysqlUser> sorted = new ArrayList<>(users);
        sorted.sort((a, b) -> {
            int c = UsersChecksum.compareCodePoints(a.username(), b.username());
            return c != 0 ? c : Boolean.compare(b.backend(), a.backend());
        });
        return sorted;
    }

    @Test
    void keptUsersChecksumEqualsTheWholeHashAfterEveryPatch() {
        java.util.Random random = new java.util.Random(13);
        Map<String, List<MysqlUser>> byName = new LinkedHashMap<>();
        for (int i = 0; i < 500; i++) {
            byName.put("user" + i, List.of(MysqlUser.of("user" + i, "pw" + i, i % 3)));
        }
        // one user as a backend row and a separate frontend row, and names beyond the BMP (code point order)
        byName.put("split", List.of(
                new MysqlUser("split", "b", true, false, 1, null, false, true, false, true, false, 10, "", ""),
                new MysqlUser("split", "f", true, false, 1, null, false, true, false, false, true, 10, "", "")));
        byName.put("\uD83D\uDE00x", List.of(MysqlUser.of("\uD83D\uDE00x", "pw", 1)));
        byName.put("\uFFFDx", List.of(MysqlUser.of("\uFFFDx", "pw", 1)));
        UsersChecksum kept = new UsersChecksum();
        kept.reset(mainOrder(byName.values().stream().flatMap(List::stream).toList()));
        assertThat(kept.value()).isEqualTo(Checksums.mysqlUsers(
                mainOrder(byName.values().stream().flatMap(List::stream).toList())));
        List<String> names = new ArrayList<>(byName.keySet());
        for (int round = 0; round < 50; round++) {
            List<MysqlUser> removed = new ArrayList<>();
            List<MysqlUser> added = new ArrayList<>();
            java.util.Set<String> picked = new java.util.HashSet<>();
            while (picked.size() < 3) {
                picked.add(names.get(random.nextInt(names.size())));
            }
            for (String name : picked) {
                List<MysqlUser> before = byName.remove(name);
                if (before != null) {
                    removed.addAll(before);
                }
                // changed, inactive, negative hostgroup, deleted, or back again
                List<MysqlUser> after = switch (random.nextInt(4)) {
                    case 0 -> List.of(MysqlUser.of(name, "pw" + round, round % 5));
                    case 1 -> List.of(MysqlUser.of(name, "pw", -1));
                    case 2 -> List.of();
                    default -> List.of(new MysqlUser(name, "x", true, true, 2, "db", true, false, true, true, false,
                            7, "", "c" + round));
                };
                if (!after.isEmpty()) {
                    byName.put(name, after);
                    added.addAll(after);
                }
            }
            kept.replace(removed, added);
            assertThat(kept.value()).as("round %d", round).isEqualTo(Checksums.mysqlUsers(
                    mainOrder(byName.values().stream().flatMap(List::stream).toList())));
        }
    }
}
