package io.proxyfleet.login.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's TLS material, kept as ProxySQL keeps it: {@code proxysql-ca.pem}, {@code proxysql-cert.pem} and
 * {@code proxysql-key.pem} in the data directory, generated on first start when absent, and turned into a
 * server-side Netty {@link SslContext} (JDK provider, TLSv1.2 and TLSv1.3) that the MySQL and admin listeners
 * hand to an {@code SslHandler} after a client's SSL request.
 *
 * <p>Threads: {@link #open} and {@link #reload} do blocking file I/O and key generation, so they run on the
 * start-up thread or the admin executor, never on an event loop. {@link #serverContext} is a volatile read, safe
 * from any thread; a session takes the context once, when it upgrades, and keeps it even if a reload follows.
 */
public final class TlsFiles {
    /** The CA that signed the server certificate; clients may verify against it. */
    public static final String CA_FILE = "proxysql-ca.pem";
    /** The server certificate (optionally followed by intermediates). */
    public static final String CERT_FILE = "proxysql-cert.pem";
    /** The server certificate's private key. */
    public static final String KEY_FILE = "proxysql-key.pem";
    /** Protocols offered; older ones are disabled by current JDKs anyway and MySQL 8 clients need neither. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    private static final int PROBE_BYTES = 32;

    private static final Logger log = LoggerFactory.getLogger(TlsFiles.class);

    private final Path caFile;
    private final Path certFile;
    private final Path keyFile;
    private volatile Loaded current;
    /** {@link #serverContextAskingForCertificates()}, built from {@code from} on first use. */
    private volatile Asking asking;

    /** One consistent load: the context, and the certificates and key it was built from. */
    private record Loaded(SslContext context, List<X509Certificate> chain, PrivateKey key) {
    }

    private record Asking(Loaded from, SslContext context) {
    }

    private TlsFiles(Path dataDir) {
        this.caFile = dataDir.resolve(CA_FILE);
        this.certFile = dataDir.resolve(CERT_FILE);
        this.keyFile = dataDir.resolve(KEY_FILE);
    }

    /**
     * Loads the TLS files from {@code dataDir}, first generating all three when any is missing (a certificate
     * and key from different generations would not match).
     *
     * @throws TlsMaterialException naming the file that cannot be generated, read or used
     */
    public static TlsFiles open(Path dataDir) {
        TlsFiles files = new TlsFiles(dataDir);
        files.generateIfMissing();
        files.current = files.load();
        return files;
    }

    /** The context for new TLS sessions. */
    public SslContext serverContext() {
        return current.context();
    }

    /**
     * Like {@link #serverContext()}, but the handshake also asks the client for a certificate (optionally: a client
     * without one still connects). Any chain a client presents is accepted here, once it proved that it holds the
     * key; whether it is trusted is for the caller to decide after the handshake, where it can answer with a MySQL
     * error instead of a TLS alert. Built from the current files on first use (no file I/O).
     */
    public SslContext serverContextAskingForCertificates() {
        Loaded l = current;
        Asking a = asking;
        if (a != null && a.from() == l) {
            return a.context();
        }
        try {
            SslContext context = SslContextBuilder.forServer(l.key(), l.chain())
                    .sslProvider(SslProvider.JDK)
                    .protocols(PROTOCOLS)
                    .trustManager(new ClientContexts.AcceptAny())
                    .clientAuth(ClientAuth.OPTIONAL)
                    .build();
            asking = new Asking(l, context);
            return context;
        } catch (SSLException | IllegalArgumentException e) {
            throw new TlsMaterialException("cannot use " + certFile + " with " + keyFile + ": " + e.getMessage(), e);
        }
    }

    /** The server certificate chain currently presented, leaf first. */
    public List<X509Certificate> certificateChain() {
        return current.chain();
    }

    /**
     * Re-reads the three files, for {@code PROXYSQL RELOAD TLS}. Sessions already encrypted keep their context;
     * new ones get the reloaded one. On failure the previous context stays in use.
     *
     * @return the new context
     * @throws TlsMaterialException naming the file that cannot be read or used
     */
    public SslContext reload() {
        Loaded next = load();
        current = next;
        log.info("TLS files reloaded: {} (subject {})", certFile, next.chain().getFirst().getSubjectX500Principal());
        return next.context();
    }

    public Path caFile() {
        return caFile;
    }

    public Path certFile() {
        return certFile;
    }

    public Path keyFile() {
        return keyFile;
    }

    private void generateIfMissing() {
        boolean ca = Files.exists(caFile);
        boolean cert = Files.exists(certFile);
        boolean key = Files.exists(keyFile);
        if (ca && cert && key) {
            return;
        }
        if (ca || cert || key) {
            log.warn("Only some TLS files exist in {}; generating a new CA, certificate and key",
                    caFile.getParent());
        }
        CertificateAuthority.Generated generated = CertificateAuthority.generate();
        try {
            // Key first and CA last: a crash in between leaves a file missing, so the next start regenerates.
            PemFiles.write(keyFile, true, generated.serverKey());
            PemFiles.write(certFile, false, generated.server());
            PemFiles.write(caFile, false, generated.ca());
        } catch (IOException e) {
            throw new TlsMaterialException("cannot write the TLS files in " + caFile.getParent() + ": "
                    + e.getMessage(), e);
        }
        log.info("Generated TLS files {}, {} and {}", caFile, certFile, keyFile);
    }

    private Loaded load() {
        List<X509Certificate> chain = PemFiles.readCertificates(certFile);
        PrivateKey key = PemFiles.readPrivateKey(keyFile);
        // Read so that a broken CA file is reported now, not when a client first asks for it.
        PemFiles.readCertificates(caFile);
        requireMatchingKey(chain.getFirst(), key);
        // Netty's SslContextBuilder would build the same JDK context but first probe for Bouncy Castle's TLS
        // provider, about a second of CPU in a fresh JVM (docs/benchmarks.md, issue 11 second pass).
        try {
            SslContext context = new JdkSslContext(JdkServerTls.serverContext(chain, key, this), false, null,
                    IdentityCipherSuiteFilter.INSTANCE, ApplicationProtocolConfig.DISABLED, ClientAuth.NONE,
                    PROTOCOLS.toArray(String[]::new), false);
            return new Loaded(context, chain, key);
        } catch (IllegalArgumentException e) {
            throw new TlsMaterialException("cannot use " + certFile + " with " + keyFile + ": " + e.getMessage(), e);
        }
    }

    /** A mismatched pair would only fail inside every client's handshake; refuse it at load instead. */
    private void requireMatchingKey(X509Certificate leaf, PrivateKey key) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm();
        };
        byte[] probe = new byte[PROBE_BYTES];
        new SecureRandom().nextBytes(probe);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            if (verifier.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            throw new TlsMaterialException("cannot check " + keyFile + " against " + certFile + ": "
                    + e.getMessage(), e);
        }
        throw new TlsMaterialException("the key in " + keyFile + " does not belong to the certificate in " + certFile);
    }
}
