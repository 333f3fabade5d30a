package io.proxyfleet.login.tls;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * The node's certificate and key as a plain JDK {@link SSLContext}, for servers that are not Netty pipelines (the
 * web dashboard's {@code HttpsServer}). Stateless; reads the files on every call, so call it on a thread that may
 * block (start-up, the admin executor), never on an event loop.
 */
public final class JdkServerTls {
    private static final String KEY_ALIAS = "proxyfleet";
    /** The in-memory key store never reaches a disk; the password only satisfies the API. */
    private static final char[] STORE_PASSWORD = new char[0];
    private static final TrustManager[] NO_TRUST = new TrustManager[0];

    private JdkServerTls() {
    }

    /**
     * A server context built from the files {@code files} currently names.
     *
     * @throws TlsMaterialException naming the file that cannot be read or used
     */
    public static SSLContext serverContext(TlsFiles files) {
        return serverContext(PemFiles.readCertificates(files.certFile()), PemFiles.readPrivateKey(files.keyFile()),
                files);
    }

    /**
     * A server context presenting {@code chain} with {@code key}. It trusts no one: servers that do not ask for
     * client certificates never consult trust managers, and the JDK's default ones would parse its whole CA store.
     */
    static SSLContext serverContext(List<X509Certificate> chain, PrivateKey key, TlsFiles files) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(KEY_ALIAS, key, STORE_PASSWORD, chain.toArray(X509Certificate[]::new));
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, STORE_PASSWORD);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), NO_TRUST, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsMaterialException("cannot use " + files.certFile() + " with " + files.keyFile() + ": "
                    + e.getMessage(), e);
        }
    }
}
