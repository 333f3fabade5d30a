package io.proxyfleet.frontend;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import io.proxyfleet.backend.BackendConnector;
import io.proxyfleet.backend.Hostgroups;
import io.proxyfleet.backend.Transport;
import io.proxyfleet.config.ConfigHolder;
import io.proxyfleet.config.ModuleVersion;
import io.proxyfleet.config.MysqlServer;
import io.proxyfleet.config.MysqlUser;
import io.proxyfleet.config.MysqlVariables;
import io.proxyfleet.config.RuntimeConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLEngine;

/**
 * A traffic listener on a free loopback port with a runtime configuration built directly by the test, for
 * testing the traffic path before (and apart from) the admin interface.
 */
public final class TrafficProxy implements AutoCloseable {
    /** Traffic event loops; each has its own backend pools. */
    public static final int EVENT_LOOPS = 2;

    private final EventLoopGroup group;
    private final TrafficServer server;
    private final ConfigHolder holder;
    private final SessionRegistry sessions;
    private final AtomicInteger tlsUpgrades;

    private TrafficContext context;

    private TrafficProxy(EventLoopGroup group, TrafficServer server, ConfigHolder holder, SessionRegistry sessions,
                         AtomicInteger tlsUpgrades) {
        this.group = group;
        this.server = server;
        this.holder = holder;
        this.sessions = sessions;
        this.tlsUpgrades = tlsUpgrades;
    }

    public static TrafficProxy start(List<MysqlServer> servers, List<MysqlUser> users, Map<String, String> variables)
            throws Exception {
        return start(servers, users, variables, EVENT_LOOPS);
    }

    /** A proxy on {@code eventLoops} loops: with one, every client draws on the same backend pools. */
    public static TrafficProxy start(List<MysqlServer> servers, List<MysqlUser> users, Map<String, String> variables,
                                     int eventLoops) throws Exception {
        var values = new HashMap<>(MysqlVariables.DEFAULTS);
        values.putAll(variables);
        RuntimeConfig config = RuntimeConfig.empty()
                .withServers(RuntimeConfig.Servers.of(servers, new ModuleVersion(1, 0, "")))
                .withUsers(RuntimeConfig.Users.of(users, new ModuleVersion(1, 0, "")))
                .withMysqlVariables(new RuntimeConfig.Variables(values, new ModuleVersion(1, 0, "")));
        var holder = new ConfigHolder(config);
        var certificate = new SelfSignedCertificate("proxyfleet-test");
        var tlsUpgrades = new AtomicInteger();
        SslContext tls = new DelegatingSslContext(
                SslContextBuilder.forServer(certificate.certificate(), certificate.privateKey()).build()) {
            @Override
            protected void initEngine(SSLEngine engine) {
                tlsUpgrades.incrementAndGet();
            }
        };
        var sessions = new SessionRegistry();
        var context = TrafficContext.create(holder, new BackendConnector(Hostgroups.follow(holder)), sessions, () -> tls);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(eventLoops, Transport.trafficHandlerFactory());
        TrafficServer server = TrafficServer.start(context, group, "127.0.0.1", 0);
        TrafficProxy proxy = new TrafficProxy(group, server, holder, sessions, tlsUpgrades);
        proxy.context = context;
        return proxy;
    }

    public int port() {
        return server.port();
    }

    public ConfigHolder config() {
        return holder;
    }

    public SessionRegistry sessions() {
        return sessions;
    }

    /**
     * How many client channels the proxy has switched to TLS. The count rises on the session's event loop in the
     * same task that puts TLS in front of the channel's pipeline, so a client that sees it rise knows that its
     * next bytes reach the TLS layer.
     */
    public int tlsUpgrades() {
        return tlsUpgrades.get();
    }

    @Override
    public void close() {
        server.close();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        context.eventsLog().close();
    }
}
