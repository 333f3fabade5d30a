package io.proxyfleet.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.admin.AdminEngine;
import io.proxyfleet.admin.AdminPrincipal;
import io.proxyfleet.admin.AdminResponse;
import io.proxyfleet.admin.AdminRole;
import io.proxyfleet.admin.NodeControl;
import io.proxyfleet.admin.RuntimeStatsSource;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.QueryRuleProgram;
import io.proxyfleet.config.RuntimeConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;

/**
 * One ProxyFleet node minus the traffic path, for cluster tests: a real admin engine on its own data directory,
 * behind a real admin socket, and (after {@link #startCluster()}) a cluster manager. Owned by the test thread.
 */
final class TestNode implements AutoCloseable {
    private static final AdminPrincipal ADMIN = new AdminPrincipal("admin", AdminRole.ADMIN, "127.0.0.1:1");

    final ConfigHolder holder = new ConfigHolder(RuntimeConfig.empty());
    final AtomicReference<ClusterManager> cluster = new AtomicReference<>();
    /** PROXYSQL CLUSTER_NOTIFY commands this node's admin received. */
    final AtomicInteger notifies = new AtomicInteger();
    final AdminEngine engine;
    final TestAdminListener listener;

    TestNode(Path dir) throws Exception {
        this(dir, (sql, response) -> response, 0);
    }

    /** A node whose admin listens on {@code port}: the same node again after a restart. */
    TestNode(Path dir, int port) throws Exception {
        this(dir, (sql, response) -> response, port);
    }

    TestNode(Path dir, BiFunction<String, AdminResponse, AdminResponse> tamper) throws Exception {
        this(dir, tamper, 0);
    }

    /**
     * A node whose admin socket passes every answer through {@code tamper} (see {@link TestAdminListener}). As on a
     * real node, only an operator's load notifies the peers (through the cluster manager's view), never a pull.
     */
    TestNode(Path dir, BiFunction<String, AdminResponse, AdminResponse> tamper, int port) throws Exception {
        NodeControl control = new ForwardingControl() {
            @Override
            public void moduleLoaded(String module) {
                ClusterManager m = cluster.get();
                if (m != null) {
                    m.moduleLoaded(module);
                }
            }
        };
        engine = AdminEngine.open(dir, null, false, false, holder, rules -> QueryRuleProgram.EMPTY,
                RuntimeStatsSource.NONE, control);
        listener = new TestAdminListener(engine, holder.current().adminVariables().get("version"),
                () -> {
                    notifies.incrementAndGet();
                    ClusterManager m = cluster.get();
                    if (m != null) {
                        m.checkNow();
                    }
                }, tamper, port);
    }

    /**
     * {@code count} nodes in {@code dir/node0}, {@code dir/node1}... that list each other (themselves too) in
     * proxysql_servers, clustering. Each logs in to its peers as {@code cluster}, a pair that is also an admin
     * credential as ProxySQL's docs instruct, checks them every {@code checkIntervalMs} and has the admin
     * variables of {@code settings} (names without {@code admin-}). Each node goes into {@code owned} as soon as it
     * exists, so that the caller closes every one even when a later one fails to start.
     */
    static List<TestNode> cluster(Path dir, int count, int checkIntervalMs, Map<String, String> settings,
                                  List<TestNode> owned) throws Exception {
        List<TestNode> created = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            TestNode n = new TestNode(dir.resolve("node" + i));
            owned.add(n);
            created.add(n);
        }
        var variables = new LinkedHashMap<>(Map.of("cluster_username", "cluster",
                "cluster_password", "cl-secret", "admin_credentials", "admin:admin;cluster:cl-secret",
                "cluster_check_interval_ms", Integer.toString(checkIntervalMs)));
        variables.putAll(settings);
        for (TestNode n : created) {
            for (var v : variables.entrySet()) {
                n.exec("UPDATE global_variables SET variable_value = '" + v.getValue()
                        + "' WHERE variable_name = 'admin-" + v.getKey() + "'");
            }
            n.exec("LOAD ADMIN VARIABLES TO RUNTIME");
            for (TestNode peer : created) {
                n.exec("INSERT INTO proxysql_servers (hostname, port, weight, comment) VALUES ('127.0.0.1', "
                        + peer.listener.port() + ", 0, 'node')");
            }
            n.exec("LOAD PROXYSQL SERVERS TO RUNTIME");
        }
        created.forEach(TestNode::startCluster);
        return created;
    }

    void startCluster() {
        ClusterManager m = new ClusterManager(new AdminClusterNode(engine, holder, false, true));
        cluster.set(m);
        m.registerStatsTables(engine);
        m.start();
    }

    AdminResponse exec(String sql) throws Exception {
        AdminResponse r = engine.execute(ADMIN, sql).get(10, TimeUnit.SECONDS);
        assertThat(r).as(sql).isNotInstanceOf(AdminResponse.Error.class);
        return r;
    }

    List<List<String>> rows(String sql) throws Exception {
        return ((AdminResponse.ResultSet) exec(sql)).rows();
    }

    ModuleVersion module(String name) {
        return engine.moduleVersions().get(name);
    }

    @Override
    public void close() throws Exception {
        ClusterManager m = cluster.get();
        if (m != null) {
            m.close();
        }
        listener.close();
        engine.close();
    }

    /** NodeControl that ignores everything but what a test overrides. */
    abstract static class ForwardingControl implements NodeControl {
        @Override
        public void shutdown(boolean slow) {
        }

        @Override
        public void pause() {
        }

        @Override
        public void resume() {
        }

        @Override
        public void flushLogs() {
        }

        @Override
        public void reloadTls() {
        }

        @Override
        public boolean killConnection(long id) {
            return false;
        }

        @Override
        public boolean killQuery(long id) {
            return false;
        }

        @Override
        public void adminInterfacesChanged(String ifaces) {
        }
    }
}
