package io.proxyfleet.web.dashboard;

import java.io.IOException;
import java.io.InputStream;
import java.net.Authenticator;
import java.net.PasswordAuthentication;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * An HTTPS client for the dashboard tests that trusts only the node's own CA file and logs in with the JDK's own
 * HTTP digest implementation (independent of the server's), or sends a raw {@code Authorization} header.
 */
final class DashboardHttp {
    private static final int TIMEOUT_MILLIS = 5_000;

    /** Status, body and the {@code WWW-Authenticate} header of one answer. */
    record Response(int status, String body, String challenge) {
    }

    private final SSLContext tls;
    private final int port;

    /** @param dataDir the node's data directory, whose {@code proxysql-ca.pem} signed its certificate */
    DashboardHttp(Path dataDir, int port) throws Exception {
        this.port = port;
        X509Certificate ca;
        try (InputStream in = Files.newInputStream(dataDir.resolve("proxysql-ca.pem"))) {
            ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("proxyfleet-ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
    }

    /** GET with the JDK's digest (or basic) answer to the server's challenge, offered once. */
    Response get(String path, String user, String password) throws IOException {
        return request("GET", path, user, password, null);
    }

    /** A request with {@code authorization} as the raw header, or none when null. */
    Response raw(String method, String path, String authorization) throws IOException {
        return request(method, path, null, null, authorization);
    }

    private Response request(String method, String path, String user, String password, String authorization)
            throws IOException {
        var conn = (HttpsURLConnection) URI.create("https://127.0.0.1:" + port + path).toURL().openConnection();
        conn.setSSLSocketFactory(tls.getSocketFactory());
        conn.setConnectTimeout(TIMEOUT_MILLIS);
        conn.setReadTimeout(TIMEOUT_MILLIS);
        conn.setRequestMethod(method);
        conn.setUseCaches(false);
        if (user != null) {
            AtomicBoolean offered = new AtomicBoolean();
            conn.setAuthenticator(new Authenticator() {
                @Override
                protected PasswordAuthentication getPasswordAuthentication() {
                    // once: a wrong password must come back as the server's 401, not as a retry loop
                    return offered.compareAndSet(false, true)
                            ? new PasswordAuthentication(user, password.toCharArray()) : null;
                }
            });
        }
        if (authorization != null) {
            conn.setRequestProperty("Authorization", authorization);
        }
        try {
            int status = conn.getResponseCode();
            InputStream in = status >= 400 ? conn.getErrorStream() : conn.getInputStream();
            String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new Response(status, body, conn.getHeaderField("WWW-Authenticate"));
        } finally {
            conn.disconnect();
        }
    }
}
