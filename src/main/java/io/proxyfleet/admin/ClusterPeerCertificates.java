package io.proxyfleet.admin;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.login.tls.ClientCertificateCheck;
import io.proxyfleet.login.tls.TlsFiles;
import io.proxyfleet.protocol.ErrPacket;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mutual TLS on the cluster channel, server side (ProxyFleet only): with
 * {@code admin-proxyfleet_cluster_tls_require_client_cert}, the admin port asks every TLS client for a certificate,
 * and a login as the cluster user ({@code admin-cluster_username}) is refused unless it came over TLS with a
 * certificate that the cluster CA ({@code admin-proxyfleet_cluster_tls_ca}, else the data directory's
 * {@code proxysql-ca.pem}) signed. Other admin users are not affected. ProxySQL peers present no certificate, so
 * the setting is for clusters of ProxyFleet nodes only (docs/cluster.md, "TLS between peers").
 *
 * <p>Threads: called on admin event loops (a volatile read of the runtime variables, a {@code stat} of the CA file
 * at a cluster login).
 */
public final class ClusterPeerCertificates {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterPeerCertificates.class);
    private static final String REQUIRE = "proxyfleet_cluster_tls_require_client_cert";
    private static final String CA = "proxyfleet_cluster_tls_ca";
    private static final String CLUSTER_USER = "cluster_username";
    private static final int ER_ACCESS_DENIED = 1045;
    private static final String SQLSTATE_ACCESS_DENIED = "28000";

    private final Supplier<RuntimeConfig.Variables> admin;
    private final TlsFiles files;
    private final ClientCertificateCheck check = new ClientCertificateCheck();

    /**
     * @param admin the runtime admin variables (names without {@code admin-})
     * @param files the node's TLS files: the server certificate, and the default cluster CA
     */
    public ClusterPeerCertificates(Supplier<RuntimeConfig.Variables> admin, TlsFiles files) {
        this.admin = admin;
        this.files = files;
    }

    /** The context for an admin client's TLS upgrade: {@code plain} unless client certificates are required. */
    SslContext context(SslContext plain) {
        return plain != null && admin.get().getBoolean(REQUIRE) ? files.serverContextAskingForCertificates() : plain;
    }

    /**
     * The error for a login of {@code username} (whose password checked out) on {@code channel}, or null to let
     * it in. Each refusal is logged with its reason.
     */
    ErrPacket refusal(String username, Channel channel, String clientAddress) {
        RuntimeConfig.Variables v = admin.get();
        if (!v.getBoolean(REQUIRE) || !username.equals(v.get(CLUSTER_USER))) {
            return null;
        }
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        String caSetting = v.get(CA).trim();
        Path ca = caSetting.isEmpty() ? files.caFile() : Path.of(caSetting);
        String reason = check.refusal(ssl == null ? null : ssl.engine().getSession(), ca);
        if (reason == null) {
            return null;
        }
        LOG.warn("Admin: refused cluster peer login of '{}' from {}: {} (admin-{} is true)", username, clientAddress,
                reason, REQUIRE);
        return new ErrPacket(ER_ACCESS_DENIED, SQLSTATE_ACCESS_DENIED, "ProxySQL Error: Access denied for user '"
                + username + "'@'" + hostOf(clientAddress) + "': cluster peers must log in over TLS with a client"
                + " certificate of the cluster CA; " + reason);
    }

    private static String hostOf(String clientAddress) {
        int colon = clientAddress.lastIndexOf(':');
        return colon < 0 ? clientAddress : clientAddress.substring(0, colon);
    }
}
