package io.proxyfleet.cluster;

import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.login.tls.ClientContexts;
import io.proxyfleet.login.tls.TlsFiles;
import io.proxyfleet.login.tls.TlsMaterialException;
import io.proxyfleet.protocol.client.ClientTls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * TLS on the cluster channel (ProxyFleet, beyond ProxySQL), from the node-local admin variables:
 * <ul>
 *   <li>{@code admin-proxyfleet_cluster_tls} (true): log in to a peer's admin port over TLS when it offers TLS,
 *       without checking its certificate (protects from eavesdroppers only);</li>
 *   <li>{@code admin-proxyfleet_cluster_tls_required} (false): a peer must offer TLS, its certificate must be
 *       signed by the CA and name the host as listed in {@code proxysql_servers}; otherwise the connection is
 *       refused before any credential is sent, and the monitor logs why;</li>
 *   <li>{@code admin-proxyfleet_cluster_tls_ca} (empty: the data directory's {@code proxysql-ca.pem}): the CA
 *       file peers' certificates are checked against;</li>
 *   <li>{@code admin-proxyfleet_cluster_tls_client_cert} (false): present this node's own
 *       {@code proxysql-cert.pem} / {@code proxysql-key.pem} (mutual TLS).</li>
 * </ul>
 * These settings only change how this node connects out. Peers that connect to this node (ProxySQL's included) are
 * affected only by {@code admin-proxyfleet_cluster_tls_require_client_cert}, which the admin port applies
 * ({@code io.proxyfleet.admin.ClusterPeerCertificates}); without it, the admin port keeps offering TLS and
 * accepting plain logins as before.
 *
 * <p>Threads: called by the monitors' virtual threads and the notify threads; the built context is cached in a
 * volatile field and rebuilt when the settings or the files' modification times change.
 */
public final class ClusterTls {
    private static final String ENABLED = "proxyfleet_cluster_tls";
    private static final String REQUIRED = "proxyfleet_cluster_tls_required";
    private static final String CA = "proxyfleet_cluster_tls_ca";
    private static final String CLIENT_CERT = "proxyfleet_cluster_tls_client_cert";

    /** The settings and file versions a context was built from. */
    private record Key(boolean required, Path ca, boolean clientCert, long caModified, long certModified) {
    }

    private record Built(Key key, ClientTls tls) {
    }

    private final Supplier<RuntimeConfig.Variables> admin;
    private final Path dataDir;
    private volatile Built built;

    /**
     * @param admin   the runtime admin variables (names without {@code admin-})
     * @param dataDir where the node's {@code proxysql-*.pem} files are
     */
    public ClusterTls(Supplier<RuntimeConfig.Variables> admin, Path dataDir) {
        this.admin = admin;
        this.dataDir = dataDir;
    }

    /** How to use TLS for the next peer connection, or null for none. */
    ClientTls current() throws IOException {
        RuntimeConfig.Variables v = admin.get();
        boolean required = v.getBoolean(REQUIRED);
        if (!required && !v.getBoolean(ENABLED)) {
            return null;
        }
        String caSetting = v.get(CA).trim();
        Path ca = caSetting.isEmpty() ? dataDir.resolve(TlsFiles.CA_FILE) : Path.of(caSetting);
        boolean clientCert = v.getBoolean(CLIENT_CERT);
        Path cert = dataDir.resolve(TlsFiles.CERT_FILE);
        Key key = new Key(required, ca, clientCert, required ? modified(ca) : 0, clientCert ? modified(cert) : 0);
        Built b = built;
        if (b != null && b.key().equals(key)) {
            return b.tls();
        }
        Path keyFile = dataDir.resolve(TlsFiles.KEY_FILE);
        try {
            ClientTls tls = required
                    ? new ClientTls(ClientContexts.verifying(ca, clientCert ? cert : null, clientCert ? keyFile : null),
                            true, true)
                    : new ClientTls(ClientContexts.unverified(clientCert ? cert : null, clientCert ? keyFile : null),
                            false, false);
            built = new Built(key, tls);
            return tls;
        } catch (TlsMaterialException e) {
            throw new IOException("cannot use the cluster TLS files: " + e.getMessage(), e);
        }
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            // Reading it will fail with a clear message naming the file.
            return -1;
        }
    }
}
