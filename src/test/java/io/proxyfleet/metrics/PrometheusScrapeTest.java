package io.proxyfleet.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.proxyfleet.NodeFixture;
import io.proxyfleet.ProxyFleetNode;
import io.proxyfleet.login.tls.TlsFiles;
import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import io.proxyfleet.testkit.PrometheusServer;
import io.proxyfleet.testkit.TestFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Three clustered nodes in this JVM with a MariaDB backend, scraped by a real Prometheus server on their REST
 * ports. Checks what Prometheus stored (through its HTTP API) and that every family ProxyFleet shares with
 * ProxySQL has ProxySQL's name, type and labels (the reference list is a test resource).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(180)
class PrometheusScrapeTest {
    private static final int NODES = 3;
    private static final int QUERIES = 25;
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String REFERENCE = "proxysql-families.tsv";
    private static final Pattern TYPE = Pattern.compile("^# TYPE (\\S+) (\\S+)$");
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? \\S+$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"");
    private static final List<String> HISTOGRAM_SUFFIXES = List.of("_bucket", "_count", "_sum");

    private Path tmp;
    private final List<ProxyFleetNode> nodes = new ArrayList<>();
    private final int[] adminPorts = new int[NODES];
    private final int[] trafficPorts = new int[NODES];
    private final int[] restPorts = new int[NODES];
    private PrometheusServer prometheus;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void startClusterAndPrometheus() throws Exception {
        tmp = Files.createTempDirectory("proxyfleet-prometheus-");
        MariaDb db = MariaDb.shared();
        db.createUser("pm", "pmpw");
        db.execute("GRANT ALL ON *.* TO 'pm'@'%'");
        var peers = new StringBuilder("proxysql_servers=\n(\n");
        for (int i = 0; i < NODES; i++) {
            adminPorts[i] = NodeFixture.freePort();
            trafficPorts[i] = NodeFixture.freePort();
            restPorts[i] = NodeFixture.freePort();
            peers.append(i == 0 ? "" : ",\n").append("{ hostname=\"127.0.0.1\", port=").append(adminPorts[i])
                    .append(", weight=0, comment=\"n").append(i).append("\" }");
        }
        peers.append("\n)\n");
        for (int i = 0; i < NODES; i++) {
            Path dir = tmp.resolve("n" + i);
            if (i > 0) {
                // A key pair per node costs seconds on a busy machine: the later nodes reuse the first one's.
                Files.createDirectories(dir);
                for (String file : List.of(TlsFiles.CA_FILE, TlsFiles.CERT_FILE, TlsFiles.KEY_FILE)) {
                    Files.copy(tmp.resolve("n0").resolve(file), dir.resolve(file));
                }
            }
            nodes.add(NodeFixture.start(dir, NodeFixture.writeConfig(dir, adminPorts[i], trafficPorts[i],
                    peers.toString())));
            admin(i, "SET admin-cluster_username='cluster'", "SET admin-cluster_password='cl-pass'",
                    "SET admin-admin_credentials='admin:admin;cluster:cl-pass'",
                    "SET admin-cluster_check_interval_ms=200", "SET admin-restapi_enabled='true'",
                    "SET admin-restapi_port=" + restPorts[i], "LOAD ADMIN VARIABLES TO RUNTIME");
        }
        admin(0, "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (0, '127.0.0.1', " + db.port() + ")",
                "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('pm', 'pmpw', 0)",
                "INSERT INTO mysql_query_rules (rule_id, active, match_digest, apply) VALUES (7, 1, '^SELECT', 1)",
                "LOAD MYSQL SERVERS TO RUNTIME", "LOAD MYSQL USERS TO RUNTIME", "LOAD MYSQL QUERY RULES TO RUNTIME");
        for (int i = 0; i < NODES; i++) {
            int node = i;
            await().atMost(WAIT).until(() -> nodes.get(node).restApi().port() == restPorts[node]);
        }
        prometheus = PrometheusServer.start(tmp.resolve("prometheus"),
                List.of(target(0), target(1), target(2)));
    }

    @AfterAll
    void stopAll() throws Exception {
        if (prometheus != null) {
            prometheus.close();
        }
        for (ProxyFleetNode node : nodes) {
            node.close();
        }
        http.close();
        TestFiles.deleteRecursively(tmp);
    }

    private String target(int node) {
        return "127.0.0.1:" + restPorts[node];
    }

    private String admin(int node, String... sql) {
        MysqlCli.Result r = NodeFixture.admin(adminPorts[node], sql);
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        return r.stdout();
    }

    private String scrape(int node) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + target(node) + "/metrics"))
                .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("text/plain; version=0.0.4"));
        return r.body();
    }

    @Test
    @Order(1)
    void sharedFamiliesHaveProxySqlsNamesTypesAndLabels() throws Exception {
        runQueries(0, 1);
        // the peers' checksum rows appear once the cluster has checked them
        await().atMost(WAIT).until(() -> scrape(0).contains("proxysql_servers_checksums_updated_at{"));
        Map<String, Family> ours = parse(scrape(0));
        Map<String, Family> reference = reference();

        var shared = new TreeSet<String>();
        for (var e : ours.entrySet()) {
            String name = e.getKey();
            if (name.startsWith("proxyfleet_")) {
                continue;
            }
            assertThat(reference).as("%s is not a ProxySQL family: ProxyFleet's own go under proxyfleet_", name)
                    .containsKey(name);
            assertThat(e.getValue().type()).as("type of %s", name).isEqualTo(reference.get(name).type());
            assertThat(e.getValue().labels()).as("labels of %s", name).isEqualTo(reference.get(name).labels());
            shared.add(name);
        }
        assertThat(shared).as("the figures the issue asks for").contains(
                "proxysql_client_connections_connected", "proxysql_client_connections_total",
                "proxysql_questions_total", "proxysql_slow_queries_total",
                "proxysql_connpool_conns_status", "proxysql_connpool_conns", "proxysql_connpool_conns_total",
                "proxysql_connpool_conns_latency_us", "proxysql_connpool_conns_queries_total",
                "proxysql_query_cache_count_get_total", "proxysql_query_cache_entries_total",
                "proxysql_mysql_monitor_ping_check_total", "proxysql_mysql_monitor_connect_check_total",
                "proxysql_cluster_pulled_total", "proxysql_cluster_syn_conflict_total",
                "proxysql_servers_checksums_updated_at", "proxysql_servers_checksums_changed_at",
                "proxysql_version_info", "proxysql_uptime_seconds_total");
        assertThat(ours.keySet()).contains("proxyfleet_commands_total", "proxyfleet_command_duration_seconds",
                "proxyfleet_query_rule_hits_total", "proxyfleet_cluster_sync_lag_seconds",
                "proxyfleet_event_loop_pending_tasks", "proxyfleet_event_loop_tick_seconds_total");
        System.out.printf("families: %d shared with ProxySQL, %d of ProxyFleet's own%n", shared.size(),
                ours.size() - shared.size());
    }

    @Test
    @Order(2)
    void showPrometheusMetricsOnTheAdminPortGivesTheSameFamilies() throws Exception {
        MysqlCli.Result r = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", adminPorts[1], "admin", "admin", "-N", "-r",
                "-e", "SHOW PROMETHEUS METRICS"), "", MysqlCli.DEFAULT_TIMEOUT);
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        assertThat(parse(r.stdout()).keySet()).isEqualTo(parse(scrape(1)).keySet());
    }

    @Test
    @Order(3)
    void restApiShowsEveryPeerInSync() throws Exception {
        String stats = "Basic " + java.util.Base64.getEncoder().encodeToString(
                "stats:stats".getBytes(StandardCharsets.UTF_8));
        await().atMost(WAIT).untilAsserted(() -> {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + target(1) + "/api/peers"))
                    .header("Authorization", stats).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            for (int port : adminPorts) {
                assertThat(r.body()).contains("{\"hostname\":\"127.0.0.1\",\"port\":" + port + ",");
            }
            assertThat(r.body()).contains("\"in_sync\":true").doesNotContain("\"in_sync\":false");
        });
        await().atMost(WAIT).until(() -> prometheus.value("min by (instance) (proxyfleet_cluster_module_in_sync)",
                target(1)) == 1);
    }

    @Test
    @Order(4)
    void prometheusSeesQueryCountersMoveAndAStoppedNodeDown() throws Exception {
        for (int i = 0; i < NODES; i++) {
            String instance = target(i);
            await().atMost(WAIT).until(() -> prometheus.value("up", instance) == 1);
        }
        String node0 = target(0);
        await().atMost(WAIT).until(() -> !Double.isNaN(prometheus.value("proxysql_questions_total", node0)));
        double before = prometheus.value("proxysql_questions_total", node0);
        double backendBefore = prometheus.value("sum by (instance) (proxysql_connpool_conns_queries_total)", node0);
        double hitsBefore = prometheus.value("proxyfleet_query_rule_hits_total{rule_id=\"7\"}", node0);

        runQueries(0, QUERIES);

        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(prometheus.value("proxysql_questions_total", node0)).isGreaterThanOrEqualTo(before + QUERIES);
            assertThat(prometheus.value("sum by (instance) (proxysql_connpool_conns_queries_total)", node0))
                    .isGreaterThanOrEqualTo(backendBefore + QUERIES);
            assertThat(prometheus.value("proxyfleet_query_rule_hits_total{rule_id=\"7\"}", node0))
                    .isGreaterThanOrEqualTo(hitsBefore + QUERIES);
            assertThat(prometheus.value("proxyfleet_commands_total{command=\"SELECT\"}", node0))
                    .isGreaterThanOrEqualTo(QUERIES);
        });
        // a node that only peers with node 0 served none of them
        assertThat(prometheus.value("proxyfleet_commands_total{command=\"SELECT\"}", target(1))).isZero();
        // node 1 knows when it last checked node 0's checksums, and how many queries node 0 served
        String ofNode0 = "{port=\"" + adminPorts[0] + "\"}";
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(prometheus.value("max by (instance) (proxysql_servers_checksums_updated_at" + ofNode0 + ")",
                    target(1))).isPositive();
            assertThat(prometheus.value("proxysql_servers_metrics_queries_total" + ofNode0, target(1)))
                    .isGreaterThanOrEqualTo(QUERIES);
        });

        System.out.printf("scrape of node 0 as Prometheus saw it: %.1f ms, %.0f samples%n",
                prometheus.value("scrape_duration_seconds", node0) * 1000,
                prometheus.value("scrape_samples_scraped", node0));

        nodes.get(2).close();
        await().atMost(WAIT).until(() -> prometheus.value("up", target(2)) == 0);
        // one scrape that outlasts its timeout on a loaded machine reads as down until the next one
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(prometheus.value("up", target(0))).isEqualTo(1);
            assertThat(prometheus.value("up", target(1))).isEqualTo(1);
        });
    }

    private void runQueries(int node, int count) {
        var sql = new StringBuilder();
        for (int i = 0; i < count; i++) {
            sql.append("SELECT ").append(i).append(";\n");
        }
        MysqlCli.Result r = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", trafficPorts[node], "pm", "pmpw", "-N"),
                sql.toString(), MysqlCli.DEFAULT_TIMEOUT);
        assertThat(r.succeeded()).as(r.toString()).isTrue();
    }

    /** A family: its type and the label names its samples carry (le and quantile aside). */
    record Family(String type, TreeSet<String> labels) {
    }

    static Map<String, Family> parse(String exposition) {
        var families = new TreeMap<String, Family>();
        for (String line : exposition.split("\n")) {
            Matcher type = TYPE.matcher(line);
            if (type.matches()) {
                families.put(type.group(1), new Family(type.group(2), new TreeSet<>()));
                continue;
            }
            Matcher sample = SAMPLE.matcher(line);
            if (line.startsWith("#") || !sample.matches()) {
                continue;
            }
            Family family = families.get(familyOf(sample.group(1), families));
            assertThat(family).as("sample without a TYPE: %s", line).isNotNull();
            if (sample.group(2) != null) {
                Matcher label = LABEL.matcher(sample.group(2));
                while (label.find()) {
                    if (!label.group(1).equals("le") && !label.group(1).equals("quantile")) {
                        family.labels().add(label.group(1));
                    }
                }
            }
        }
        return families;
    }

    private static String familyOf(String sampleName, Map<String, Family> families) {
        if (families.containsKey(sampleName)) {
            return sampleName;
        }
        for (String suffix : HISTOGRAM_SUFFIXES) {
            if (sampleName.endsWith(suffix)) {
                return sampleName.substring(0, sampleName.length() - suffix.length());
            }
        }
        return sampleName;
    }

    private static Map<String, Family> reference() throws IOException {
        var families = new TreeMap<String, Family>();
        try (InputStream in = PrometheusScrapeTest.class.getResourceAsStream(REFERENCE)) {
            assertThat(in).as(REFERENCE).isNotNull();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                String[] f = line.split("\t", -1);
                var labels = new TreeSet<String>();
                for (String l : f[2].split(",")) {
                    if (!l.isEmpty()) {
                        labels.add(l);
                    }
                }
                families.put(f[0], new Family(f[1], labels));
            }
        }
        return families;
    }
}
