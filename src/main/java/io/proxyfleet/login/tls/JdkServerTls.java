package io.proxyfleet.login.tls;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The node's certificate and key as a plain JDK {@link SSLContext}, for servers that are not Netty pipelines (the
 * web dashboard's {@code HttpsServer}). Stateless; reads the files on every call, so call it on a thread that may
 * block (start-up, the admin executor), never on an event loop.
 */
public final class JdkServerTls {
    private static final String KEY_ALIAS = "proxyfleet";
    /** The in-memory key store never reaches a disk; the password only satisfies the API. */
    private static final char[] STORE_PASSWORD = new char[0];

    private JdkServerTls() {
    }

    /**
     * A server context built from the files {@code files} currently names.
     *
     * @throws TlsMaterialException naming the file that cannot be read or used
     */
    public static SSLContext serverContext(TlsFiles files) {
        List<X509Certificate> chain = PemFiles.readCertificates(files.certFile());
        PrivateKey key = PemFiles.readPrivateKey(files.keyFile());
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(KEY_ALIAS, key, STORE_PASSWORD, chain.toArray(X509Certificate[]::new));
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, STORE_PASSWORD);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsMaterialException("cannot use " + files.certFile() + " with " + files.keyFile() + ": "
                    + e.getMessage(), e);
        }
    }
}
