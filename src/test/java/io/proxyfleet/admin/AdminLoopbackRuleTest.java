package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.unix.DomainSocketAddress;
import io.proxyfleet.protocol.ErrPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ProxySQL's local-only rule on the addresses that tests cannot connect from: ::1 on a machine without IPv6,
 * other hosts, a local socket. {@code AdminLoginTest} tries the rule through the real port from 127.0.0.2.
 */
class AdminLoopbackRuleTest {
    private static final AdminAccount ADMIN = new AdminAccount("admin", "admin", AdminRole.ADMIN);
    private static final AdminAccount STATS = new AdminAccount("stats", "stats", AdminRole.STATS);

    private static SocketAddress from(String ip) {
        return new InetSocketAddress(InetAddress.ofLiteral(ip), 40000);
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.2", "127.1.2.3", "10.0.0.7", "fe80::1", "::2"})
    void adminStatsAndMonitorAreRefusedFromAnythingButExactlyLocalhost(String ip) {
        ErrPacket admin = AdminSession.localOnlyRefusal(ADMIN, from(ip));
        assertThat(admin.code()).isEqualTo(1040);
        assertThat(admin.sqlState()).isEqualTo("42000");
        assertThat(admin.message()).isEqualTo("User 'admin' can only connect locally");
        assertThat(AdminSession.localOnlyRefusal(STATS, from(ip)).message())
                .isEqualTo("User 'stats' can only connect locally");
        assertThat(AdminSession.localOnlyRefusal(new AdminAccount("monitor", "m", AdminRole.ADMIN), from(ip)))
                .isNotNull();
        assertThat(AdminSession.localOnlyRefusal(new AdminAccount("monitor", "m", AdminRole.STATS), from(ip)))
                .isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "::1", "::ffff:127.0.0.1"})
    void localhostIsLetIn(String ip) {
        assertThat(AdminSession.localOnlyRefusal(ADMIN, from(ip))).isNull();
        assertThat(AdminSession.localOnlyRefusal(STATS, from(ip))).isNull();
    }

    @Test
    void aLocalSocketIsLocalhost() {
        assertThat(AdminSession.localOnlyRefusal(ADMIN, new DomainSocketAddress("admin.sock"))).isNull();
    }

    @Test
    void otherNamesAndNamesInTheOtherRoleMayLogInFromAnywhere() {
        assertThat(AdminSession.localOnlyRefusal(new AdminAccount("radmin", "r", AdminRole.ADMIN), from("10.0.0.7")))
                .isNull();
        assertThat(AdminSession.localOnlyRefusal(new AdminAccount("cluster1", "c", AdminRole.ADMIN),
                from("10.0.0.7"))).isNull();
        // As in ProxySQL, the rule is per role: "stats" listed as an admin user is not the local stats user.
        assertThat(AdminSession.localOnlyRefusal(new AdminAccount("stats", "s", AdminRole.ADMIN), from("10.0.0.7")))
                .isNull();
        assertThat(AdminSession.localOnlyRefusal(new AdminAccount("admin", "a", AdminRole.STATS), from("10.0.0.7")))
                .isNull();
    }
}
