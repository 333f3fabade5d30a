package io.proxyfleet.web.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.NodeFixture;
import io.proxyfleet.ProxyFleetNode;
import io.proxyfleet.testkit.MariaDb;
import io.proxyfleet.testkit.MysqlCli;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Issue 12's dashboard scenarios in a real headless Chromium (Debian's, driven through its chromedriver by
 * Selenium), on one cluster of three in-process nodes with a MariaDB backend, in order: log in and see three nodes
 * in sync; stop one and see it down; change a user on another and see the checksums move and converge; see
 * traffic; stop MariaDB and see the backend SHUNNED. Each state is saved as a screenshot under
 * {@code target/dashboard-screenshots}. Every wait is on text in the page.
 */
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(120)
class DashboardBrowserTest {
    private static final Duration PAGE_WAIT = Duration.ofSeconds(30);
    private static final Path SCREENSHOTS = Path.of("target", "dashboard-screenshots");
    private static final String CHROMIUM = "/usr/bin/chromium";
    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    private static final String APP_USER = "dash_app";
    private static final String APP_PASSWORD = "dash-pass";
    private static final int QUERIES = 300;

    @TempDir
    static Path tmp;
    private static final String MONITOR_USER = "dash_monitor";
    private static final String MONITOR_PASSWORD = "dash-mon";
    /** The backend the test stops, in hostgroup 0; the shared server stays up in hostgroup 1. */
    private static MariaDb mariaDb;
    private static MariaDb shared;
    private static final List<ProxyFleetNode> nodes = new ArrayList<>();
    private static final int[] adminPorts = new int[3];
    private static final int[] webPorts = new int[3];
    private static final int[] trafficPorts = new int[3];
    private static WebDriver browser;
    private static WebDriverWait wait;

    @BeforeAll
    static void clusterAndBrowser() throws Exception {
        mariaDb = MariaDb.start(MariaDb.Options.defaults());
        mariaDb.createUser(APP_USER, APP_PASSWORD);
        mariaDb.createUser(MONITOR_USER, MONITOR_PASSWORD);
        shared = MariaDb.shared();
        shared.execute("DROP USER IF EXISTS " + MariaDb.quote(MONITOR_USER) + "@'%'");
        shared.createUser(MONITOR_USER, MONITOR_PASSWORD);
        for (int i = 0; i < 3; i++) {
            adminPorts[i] = NodeFixture.freePort();
            webPorts[i] = NodeFixture.freePort();
            trafficPorts[i] = NodeFixture.freePort();
        }
        for (int i = 0; i < 3; i++) {
            nodes.add(NodeFixture.start(tmp.resolve("node" + (i + 1)), config(i)));
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1500,900",
                "--disable-gpu");
        // The node's certificate is signed by its own CA, which the browser has no reason to know.
        options.setAcceptInsecureCerts(true);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        wait = new WebDriverWait(browser, PAGE_WAIT);
        // The page rebuilds its tables every second: an element found just before a redraw is read again.
        wait.ignoring(StaleElementReferenceException.class);
        Files.createDirectories(SCREENSHOTS);
    }

    private static Path config(int i) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("node" + (i + 1)));
        StringBuilder peers = new StringBuilder();
        for (int p = 0; p < 3; p++) {
            peers.append("    { hostname=\"127.0.0.1\", port=%d, weight=0, comment=\"node%d\" },\n"
                    .formatted(adminPorts[p], p + 1));
        }
        Path cnf = dir.resolve("proxysql.cnf");
        Files.writeString(cnf, """
                datadir="%s"
                admin_variables=
                {
                    admin_credentials="admin:admin;cluster:cl-pass"
                    stats_credentials="stats:statspass"
                    mysql_ifaces="127.0.0.1:%d"
                    cluster_username="cluster"
                    cluster_password="cl-pass"
                    cluster_check_interval_ms=200
                    web_enabled="true"
                    web_port=%d
                }
                mysql_variables=
                {
                    interfaces="127.0.0.1:%d"
                    threads=1
                    server_version="5.5.30"
                    monitor_username="%s"
                    monitor_password="%s"
                    monitor_ping_interval=300
                    monitor_ping_timeout=200
                }
                mysql_servers=
                (
                    { address="127.0.0.1", port=%d, hostgroup=0, max_connections=50, comment="primary" },
                    { address="127.0.0.1", port=%d, hostgroup=1, max_connections=20, comment="replica" }
                )
                mysql_users=
                (
                    { username="%s", password="%s", default_hostgroup=0 }
                )
                mysql_query_rules=
                (
                    { rule_id=10, active=1, match_digest="^SELECT", destination_hostgroup=0, apply=1, comment="reads" }
                )
                proxysql_servers=
                (
                %s)
                """.formatted(dir, adminPorts[i], webPorts[i], trafficPorts[i], MONITOR_USER, MONITOR_PASSWORD,
                mariaDb.port(), shared.port(), APP_USER,
                APP_PASSWORD, peers));
        return cnf;
    }

    @AfterAll
    static void stopAll() {
        if (browser != null) {
            browser.quit();
        }
        for (ProxyFleetNode node : nodes) {
            node.close();
        }
        if (mariaDb != null) {
            mariaDb.close();
        }
    }

    private static void screenshot(String name) throws IOException {
        Files.write(SCREENSHOTS.resolve(name + ".png"),
                ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    private static By nodeCell(int node, String cell) {
        return By.cssSelector("tr[data-node='127.0.0.1:" + adminPorts[node] + "'] " + cell);
    }

    /** What {@code read} returns for the element {@code by} finds, read again if a redraw replaced it meanwhile. */
    private static String read(By by, Function<WebElement, String> read) {
        return wait.until(d -> read.apply(d.findElement(by)));
    }

    private static String usersChecksum(int node) {
        return read(nodeCell(node, "td.mod[data-module='mysql_users'] .checksum"),
                e -> e.getDomAttribute("data-checksum"));
    }

    private static String moduleClass(int node) {
        return read(nodeCell(node, "td.mod[data-module='mysql_users']"), e -> e.getDomAttribute("class"));
    }

    @Test
    @Order(2)
    void logInAndSeeThreeNodesInSync() throws Exception {
        browser.get("https://stats:statspass@127.0.0.1:" + webPorts[0] + "/");
        wait.until(ExpectedConditions.textToBe(By.id("whoami"), "stats (stats)"));
        wait.until(ExpectedConditions.textToBe(By.id("cluster-summary"), "3 nodes · 3 up · 3 in sync"));
        for (int i = 0; i < 3; i++) {
            wait.until(ExpectedConditions.textToBe(nodeCell(i, "td.state"), "UP"));
            wait.until(ExpectedConditions.textToBe(nodeCell(i, "td.matched"), "now"));
            assertThat(read(nodeCell(i, "td.version"), WebElement::getText)).isEqualTo("2.7.2-proxyfleet");
        }
        assertThat(read(nodeCell(0, "td:first-child"), WebElement::getText)).startsWith(
                "127.0.0.1:" + adminPorts[0] + " (this node)");
        assertThat(browser.findElements(By.id("tab-variables")).getFirst().isDisplayed())
                .as("the stats user is not offered the admin page").isFalse();
        screenshot("1-cluster-in-sync");
    }

    @Test
    @Order(3)
    void stopOneNodeAndSeeItDown() throws Exception {
        nodes.get(2).close();
        wait.until(ExpectedConditions.textMatches(nodeCell(2, "td.state"), Pattern.compile("^DOWN")));
        wait.until(ExpectedConditions.textToBe(By.id("cluster-summary"), "3 nodes · 2 up · 2 in sync"));
        assertThat(read(nodeCell(2, "td.sync"), WebElement::getText)).isEqualTo("out of sync");
        screenshot("2-node-down");
    }

    @Test
    @Order(4)
    void changeAUserOnAnotherNodeAndSeeTheChecksumsMoveAndConverge() throws Exception {
        String before = usersChecksum(0);
        assertThat(usersChecksum(1)).isEqualTo(before);
        MysqlCli.Result r = NodeFixture.admin(adminPorts[1],
                "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('dash_late', 'late', 0)",
                "LOAD MYSQL USERS TO RUNTIME");
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        wait.until(d -> !usersChecksum(0).equals(before) && usersChecksum(0).equals(usersChecksum(1)));
        wait.until(ExpectedConditions.textToBe(By.id("cluster-summary"), "3 nodes · 2 up · 2 in sync"));
        // the stopped node still shows what it reported last, greyed as stale
        assertThat(usersChecksum(2)).isEqualTo(before);
        assertThat(moduleClass(2)).contains("stale");
        assertThat(moduleClass(1)).contains("match");
        screenshot("3-checksums-converged");
    }

    @Test
    @Order(5)
    void seeTrafficDigestsAndRuleHits() throws Exception {
        StringBuilder sql = new StringBuilder();
        for (int i = 0; i < QUERIES; i++) {
            sql.append("SELECT ").append(i).append(";\n");
        }
        MysqlCli.Result r = MysqlCli.run(MysqlCli.loginArgs("127.0.0.1", trafficPorts[0], APP_USER, APP_PASSWORD,
                "-N", "-B"), sql.toString(), MysqlCli.DEFAULT_TIMEOUT);
        assertThat(r.succeeded()).as(r.toString()).isTrue();
        browser.findElement(By.id("tab-traffic")).click();
        wait.until(ExpectedConditions.textToBe(By.cssSelector("#rules tr[data-rule='10'] td.hits"),
                Integer.toString(QUERIES)));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("digests"), "SELECT ?"));
        wait.until(ExpectedConditions.textMatches(By.id("traffic-summary"), Pattern.compile("peak [1-9]")));
        assertThat(read(By.cssSelector("#qps-chart polyline"), e -> e.getDomAttribute("points"))).isNotBlank();
        screenshot("4-traffic");
    }

    @Test
    @Order(6)
    void stopMariaDbAndSeeTheBackendShunned() throws Exception {
        browser.findElement(By.id("tab-backends")).click();
        By status = By.cssSelector("tr[data-server='0/127.0.0.1:" + mariaDb.port() + "'] td.status");
        wait.until(ExpectedConditions.textToBe(status, "ONLINE"));
        mariaDb.stop();
        wait.until(ExpectedConditions.textToBe(status, "SHUNNED"));
        wait.until(ExpectedConditions.textToBe(By.id("backends-summary"), "2 servers · 1 SHUNNED · 1 ONLINE"));
        assertThat(read(By.cssSelector("tr[data-server='1/127.0.0.1:" + shared.port() + "'] td.status"),
                WebElement::getText)).isEqualTo("ONLINE");
        screenshot("5-backend-shunned");
    }
}
