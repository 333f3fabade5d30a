package io.proxyfleet.login.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Decides, after a TLS handshake that asked for a client certificate
 * ({@link TlsFiles#serverContextAskingForCertificates()}), whether the client presented one that a CA file signed
 * (PKIX path, validity dates and the client-authentication key usage, as a TLS server would check them). The CA
 * file is read on first use and again when its modification time changes.
 *
 * <p>Threads: any; called on an admin event loop at login, where the only I/O is a {@code stat} of the CA file
 * (logins of the cluster user only, a few per peer and minute).
 */
public final class ClientCertificateCheck {
    /** The trust built from one version of a CA file. */
    private record Trust(Path caFile, long modified, X509TrustManager manager) {
    }

    private volatile Trust trust;

    /**
     * Why the client of {@code session} is not trusted, or null when it presented a certificate chain that
     * {@code caFile} signed.
     *
     * @param session the connection's TLS session, or null for a connection without TLS
     */
    public String refusal(SSLSession session, Path caFile) {
        if (session == null) {
            return "the connection does not use TLS";
        }
        Certificate[] presented;
        try {
            presented = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return "no client certificate was presented";
        }
        X509Certificate[] chain = new X509Certificate[presented.length];
        for (int i = 0; i < presented.length; i++) {
            if (!(presented[i] instanceof X509Certificate x509)) {
                return "the client certificate is not an X.509 certificate";
            }
            chain[i] = x509;
        }
        X509TrustManager manager;
        try {
            manager = trustFor(caFile);
        } catch (TlsMaterialException e) {
            return e.getMessage();
        }
        try {
            manager.checkClientTrusted(chain, chain[0].getPublicKey().getAlgorithm());
            return null;
        } catch (CertificateException e) {
            return "the client certificate (" + chain[0].getSubjectX500Principal() + ") is not trusted by " + caFile
                    + ": " + e.getMessage();
        }
    }

    private X509TrustManager trustFor(Path caFile) {
        long modified;
        try {
            modified = Files.getLastModifiedTime(caFile).toMillis();
        } catch (IOException e) {
            throw new TlsMaterialException("cannot read the CA file " + caFile + ": " + e.getMessage(), e);
        }
        Trust t = trust;
        if (t != null && t.caFile().equals(caFile) && t.modified() == modified) {
            return t.manager();
        }
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (X509Certificate ca : PemFiles.readCertificates(caFile)) {
                store.setCertificateEntry("ca" + i++, ca);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            for (TrustManager m : tmf.getTrustManagers()) {
                if (m instanceof X509TrustManager x509) {
                    trust = new Trust(caFile, modified, x509);
                    return x509;
                }
            }
            throw new TlsMaterialException("no X.509 trust manager for the CA file " + caFile);
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsMaterialException("cannot use the CA file " + caFile + ": " + e.getMessage(), e);
        }
    }
}
