package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.protocol.ErrPacket;
import org.junit.jupiter.api.Test;

/**
 * The users named admin and stats may log in only from loopback (error 1040 otherwise); other admin accounts,
 * such as cluster credentials, may log in from anywhere. Tested on the rule itself, since tests send traffic
 * only to loopback.
 */
class AdminLoopbackRuleTest {
    @Test
    void adminAndStatsAreRefusedFromElsewhere() {
        ErrPacket admin = AdminSession.localOnlyRefusal("admin", false);
        assertThat(admin.code()).isEqualTo(1040);
        assertThat(admin.message()).isEqualTo("User 'admin' can only connect locally");
        assertThat(AdminSession.localOnlyRefusal("stats", false).code()).isEqualTo(1040);
    }

    @Test
    void loopbackAndOtherUsersAreLetIn() {
        assertThat(AdminSession.localOnlyRefusal("admin", true)).isNull();
        assertThat(AdminSession.localOnlyRefusal("stats", true)).isNull();
        assertThat(AdminSession.localOnlyRefusal("cluster1", false)).isNull();
        assertThat(AdminSession.localOnlyRefusal("radmin", false)).isNull();
    }
}
