package io.proxyfleet.protocol.client;

import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * How a {@link BlockingMysqlClient} uses TLS. Immutable.
 *
 * @param context        builds the TLS socket: it decides which server certificates are trusted and which
 *                       certificate, if any, the client presents
 * @param required       refuse a server that does not offer TLS, before any credential is sent; when false, TLS
 *                       is used whenever the server offers it and the login stays plain otherwise
 * @param verifyHostname check the server certificate's names against the host name connected to
 */
public record ClientTls(SSLContext context, boolean required, boolean verifyHostname) {
    public ClientTls {
        Objects.requireNonNull(context, "context");
    }
}
