package io.proxyfleet.web;

import io.proxyfleet.admin.AdminAccount;
import io.proxyfleet.admin.AdminRole;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HTTP basic and digest (RFC 7616, MD5, qop=auth) authentication against the runtime admin credentials, which
 * ProxySQL keeps in clear text (so digest can be checked). Nonces are stateless: a timestamp signed with a key
 * made at start, valid for {@link #NONCE_LIFETIME_NANOS}; nonce counts are not tracked, so a captured digest
 * header can be replayed within that window (use TLS or a trusted network, as for ProxySQL's REST port).
 * Thread-safe: immutable apart from the {@link Mac} made per call.
 */
final class HttpAuth {
    static final String REALM = "ProxyFleet";
    private static final long NONCE_LIFETIME_NANOS = TimeUnit.MINUTES.toNanos(5);
    private static final String HMAC = "HmacSHA256";
    private static final int KEY_BYTES = 32;

    /** The outcome of checking a request's Authorization header against a route's {@link Access}. */
    sealed interface Verdict {
        record Allowed(String username) implements Verdict {
        }

        /** 401: no, malformed or wrong credentials. */
        record Unauthorized(String reason) implements Verdict {
        }

        /** 403: a known user without the route's role. */
        record Forbidden(String username) implements Verdict {
        }
    }

    private final Function<String, Optional<AdminAccount>> accounts;
    private final byte[] key = new byte[KEY_BYTES];
    private final long epochNanos = System.nanoTime();

    HttpAuth(Function<String, Optional<AdminAccount>> accounts) {
        this.accounts = accounts;
        new SecureRandom().nextBytes(key);
    }

    /** The WWW-Authenticate challenges of a 401, digest first (what browsers and curl --anyauth prefer). */
    String[] challenges() {
        return new String[] {
            "Digest realm=\"" + REALM + "\", qop=\"auth\", algorithm=MD5, nonce=\"" + newNonce() + "\"",
            "Basic realm=\"" + REALM + "\", charset=\"UTF-8\""
        };
    }

    /**
     * @param requestUri the request's URI as sent (path and query), which a digest response must name
     */
    Verdict check(Access access, String method, String requestUri, String authorization) {
        if (access == Access.PUBLIC) {
            return new Verdict.Allowed("");
        }
        if (authorization == null || authorization.isBlank()) {
            return new Verdict.Unauthorized("credentials required");
        }
        int space = authorization.indexOf(' ');
        String scheme = space < 0 ? authorization : authorization.substring(0, space);
        String params = space < 0 ? "" : authorization.substring(space + 1).trim();
        Optional<AdminAccount> account;
        if (scheme.equalsIgnoreCase("Basic")) {
            account = basic(params);
        } else if (scheme.equalsIgnoreCase("Digest")) {
            account = digest(method, requestUri, params);
        } else {
            return new Verdict.Unauthorized("unsupported authentication scheme " + scheme);
        }
        if (account.isEmpty()) {
            return new Verdict.Unauthorized("wrong user name or password");
        }
        if (access == Access.ADMIN && account.get().role() != AdminRole.ADMIN) {
            return new Verdict.Forbidden(account.get().username());
        }
        return new Verdict.Allowed(account.get().username());
    }

    private Optional<AdminAccount> basic(String encoded) {
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return Optional.empty();
        }
        String password = decoded.substring(colon + 1);
        return accounts.apply(decoded.substring(0, colon)).filter(a -> MessageDigest.isEqual(
                a.password().getBytes(StandardCharsets.UTF_8), password.getBytes(StandardCharsets.UTF_8)));
    }

    private Optional<AdminAccount> digest(String method, String requestUri, String header) {
        Map<String, String> p = digestParams(header);
        String username = p.get("username");
        String nonce = p.get("nonce");
        String uri = p.get("uri");
        String response = p.get("response");
        // A response computed for another URI (replayed from another request) does not count.
        if (username == null || nonce == null || uri == null || response == null || !REALM.equals(p.get("realm"))
                || !uri.equals(requestUri) || !nonceValid(nonce)) {
            return Optional.empty();
        }
        String qop = p.get("qop");
        return accounts.apply(username).filter(a -> {
            String ha1 = md5(a.username() + ":" + REALM + ":" + a.password());
            String ha2 = md5(method + ":" + uri);
            String expected = qop == null
                    ? md5(ha1 + ":" + nonce + ":" + ha2)
                    : md5(ha1 + ":" + nonce + ":" + p.getOrDefault("nc", "") + ":" + p.getOrDefault("cnonce", "")
                            + ":" + qop + ":" + ha2);
            return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                    response.toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
        });
    }

    /** Parses {@code a="x", b=y} pairs; quoted values may contain commas and backslash escapes. */
    static Map<String, String> digestParams(String header) {
        Map<String, String> params = new HashMap<>();
        int i = 0;
        int n = header.length();
        while (i < n) {
            while (i < n && (header.charAt(i) == ' ' || header.charAt(i) == ',')) {
                i++;
            }
            int eq = header.indexOf('=', i);
            if (eq < 0) {
                break;
            }
            String name = header.substring(i, eq).trim().toLowerCase(java.util.Locale.ROOT);
            i = eq + 1;
            var value = new StringBuilder();
            if (i < n && header.charAt(i) == '"') {
                i++;
                while (i < n && header.charAt(i) != '"') {
                    if (header.charAt(i) == '\\' && i + 1 < n) {
                        i++;
                    }
                    value.append(header.charAt(i++));
                }
                i++;
            } else {
                while (i < n && header.charAt(i) != ',') {
                    value.append(header.charAt(i++));
                }
            }
            params.put(name, value.toString().trim());
        }
        return params;
    }

    private String newNonce() {
        String stamp = Long.toString(System.nanoTime() - epochNanos);
        return stamp + "." + sign(stamp);
    }

    private boolean nonceValid(String nonce) {
        int dot = nonce.indexOf('.');
        if (dot < 0) {
            return false;
        }
        String stamp = nonce.substring(0, dot);
        if (!MessageDigest.isEqual(sign(stamp).getBytes(StandardCharsets.US_ASCII),
                nonce.substring(dot + 1).getBytes(StandardCharsets.US_ASCII))) {
            return false;
        }
        try {
            long age = System.nanoTime() - epochNanos - Long.parseLong(stamp);
            return age >= 0 && age < NONCE_LIFETIME_NANOS;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private String sign(String text) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(
                    mac.doFinal(text.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 unavailable", e);
        }
    }

    static String md5(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(
                    text.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("MD5 unavailable", e);
        }
    }
}
