package io.proxyfleet.login.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Client-side {@link SSLContext}s built from the same PEM files the listeners use: one that trusts only the
 * certificates a CA file signed, and one that encrypts without checking who answers (MySQL's
 * {@code ssl-mode=PREFERRED}: protection from eavesdroppers, not from an active impostor). Either may present a
 * client certificate. Stateless; reads files, so never call it on an event loop.
 */
public final class ClientContexts {
    /** In-memory key store entries need a password; nothing is ever stored. */
    private static final char[] NO_PASSWORD = new char[0];
    private static final String KEY_ALIAS = "client";
    private static final String TLS = "TLS";

    private ClientContexts() {
    }

    /**
     * A context that trusts the certificates {@code caFile} signed (one or more PEM CA certificates) and presents
     * {@code certFile}/{@code keyFile} when both are given.
     *
     * @throws TlsMaterialException naming the file that cannot be read or used
     */
    public static SSLContext verifying(Path caFile, Path certFileOrNull, Path keyFileOrNull) {
        try {
            KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            int i = 0;
            for (X509Certificate ca : PemFiles.readCertificates(caFile)) {
                trusted.setCertificateEntry("ca" + i++, ca);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trusted);
            return context(tmf.getTrustManagers(), certFileOrNull, keyFileOrNull);
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsMaterialException("cannot use the CA file " + caFile + ": " + e.getMessage(), e);
        }
    }

    /** A context that accepts any server certificate; see the class comment for what that protects from. */
    public static SSLContext unverified(Path certFileOrNull, Path keyFileOrNull) {
        return context(new TrustManager[] {new AcceptAny()}, certFileOrNull, keyFileOrNull);
    }

    private static SSLContext context(TrustManager[] trust, Path certFile, Path keyFile) {
        try {
            SSLContext context = SSLContext.getInstance(TLS);
            context.init(keyManagers(certFile, keyFile), trust, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new TlsMaterialException("cannot build a TLS client context: " + e.getMessage(), e);
        }
    }

    private static KeyManager[] keyManagers(Path certFile, Path keyFile) throws GeneralSecurityException {
        if (certFile == null || keyFile == null) {
            return null;
        }
        List<X509Certificate> chain = PemFiles.readCertificates(certFile);
        PrivateKey key = PemFiles.readPrivateKey(keyFile);
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        store.setKeyEntry(KEY_ALIAS, key, NO_PASSWORD, chain.toArray(X509Certificate[]::new));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, NO_PASSWORD);
        return kmf.getKeyManagers();
    }

    /**
     * Accepts every chain; used only where the caller chose encryption without authentication, or checks the chain
     * itself after the handshake ({@link TlsFiles#serverContextAskingForCertificates()}).
     */
    static final class AcceptAny extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
