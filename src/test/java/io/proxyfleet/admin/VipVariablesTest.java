package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The node-local {@code admin-proxyfleet_vip_*} variables (docs/vip.md) never reach the {@code admin_variables} checksum. */
class VipVariablesTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final AdminTestSupport t = new AdminTestSupport();

    @Test
    void vipVariablesLeaveTheAdminVariablesChecksumAlone() throws Exception {
        t.open(dir);
        String before = checksum();
        t.ok("SET admin-proxyfleet_vip_address='198.18.0.100'");
        t.ok("SET admin-proxyfleet_vip_raft_id='n2'");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(t.rows("SELECT variable_value FROM runtime_global_variables"
                + " WHERE variable_name='admin-proxyfleet_vip_address'").rows()).containsExactly(java.util.List.of("198.18.0.100"));
        assertThat(checksum()).isEqualTo(before);
        t.ok("SET admin-refresh_interval=3000");
        t.ok("LOAD ADMIN VARIABLES TO RUNTIME");
        assertThat(checksum()).isNotEqualTo(before);
    }

    @Test
    void drainIsAnAdminCommand() throws Exception {
        t.open(dir);
        t.ok("PROXYFLEET DRAIN");
    }

    private String checksum() throws Exception {
        return t.rows("SELECT checksum FROM runtime_checksums_values WHERE name='admin_variables'").rows()
                .getFirst().get(0);
    }
}
