package io.proxyfleet.vip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.proxyfleet.config.AdminVariables;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.RuntimeConfig;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VipSettingsTest {

    private static RuntimeConfig.Variables vars(Map<String, String> overrides) {
        var values = new HashMap<>(AdminVariables.DEFAULTS);
        values.putAll(overrides);
        return new RuntimeConfig.Variables(values, ModuleVersion.NONE);
    }

    @Test
    void disabledByDefault() {
        assertThat(VipSettings.from(vars(Map.of())).enabled()).isFalse();
    }

    @Test
    void readsPeersAndFindsItself() {
        VipSettings s = VipSettings.from(vars(Map.of("proxyfleet_vip_address", "198.18.0.100", "proxyfleet_vip_interface", "eth0",
                "proxyfleet_vip_raft_id", "n2", "proxyfleet_vip_raft_peers", "n1=198.18.0.11:7800, n2=198.18.0.12:7800,n3=198.18.0.13:7801")));
        assertThat(s.peers()).hasSize(3);
        assertThat(s.self()).isEqualTo(new VipSettings.Peer("n2", "198.18.0.12", 7800));
        assertThat(s.leaseMillis()).isEqualTo(1000);
    }

    @Test
    void rejectsWhatCannotWork() {
        assertThatThrownBy(() -> VipSettings.from(vars(Map.of("proxyfleet_vip_address", "198.18.0.100", "proxyfleet_vip_interface", "eth0",
                "proxyfleet_vip_raft_id", "n1", "proxyfleet_vip_raft_peers", "n1=198.18.0.11:7800,n2=198.18.0.12:7800"))))
                .hasMessageContaining("at least three");
        assertThatThrownBy(() -> VipSettings.from(vars(Map.of("proxyfleet_vip_address", "198.18.0.100", "proxyfleet_vip_interface", "eth0",
                "proxyfleet_vip_raft_id", "n9", "proxyfleet_vip_raft_peers", "n1=a:1,n2=b:1,n3=c:1"))))
                .hasMessageContaining("admin-proxyfleet_vip_raft_id");
        assertThatThrownBy(() -> VipSettings.from(vars(Map.of("proxyfleet_vip_address", "198.18.0.100",
                "proxyfleet_vip_raft_id", "n1", "proxyfleet_vip_raft_peers", "n1=a:1,n2=b:1,n3=c:1"))))
                .hasMessageContaining("admin-proxyfleet_vip_interface");
    }
}
