package io.proxyfleet.web.dashboard;

import io.proxyfleet.admin.AdminAccount;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.LongSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HTTP digest authentication (RFC 7616, MD5, {@code qop=auth}) against the admin credentials, as ProxySQL's web UI
 * does; HTTP basic is also accepted, which is safe because the dashboard only speaks TLS and convenient for
 * {@code curl -u}. Nonces are stateless: a timestamp signed with a key made at start-up, valid for
 * {@link #NONCE_LIFETIME_MILLIS}; an expired one is answered with {@code stale=true} so browsers retry without
 * asking again. Nonce counts are not tracked (no replay window beyond the nonce lifetime, over TLS).
 *
 * <p>Threads: immutable after construction; any handler thread may call it.
 */
final class DigestAuth {
    static final String REALM = "ProxyFleet";
    static final long NONCE_LIFETIME_MILLIS = 300_000;
    private static final int KEY_BYTES = 32;
    private static final String HMAC = "HmacSHA256";

    private final byte[] key = new byte[KEY_BYTES];
    private final Function<String, Optional<AdminAccount>> accounts;
    private final LongSupplier clockMillis;

    /** @param accounts the admin login named by a user name, if any ({@code AdminEngine::account}) */
    DigestAuth(Function<String, Optional<AdminAccount>> accounts) {
        this(accounts, System::currentTimeMillis);
    }

    /** With the clock nonces are stamped and checked by (tests move it past a nonce's lifetime). */
    DigestAuth(Function<String, Optional<AdminAccount>> accounts, LongSupplier clockMillis) {
        this.accounts = accounts;
        this.clockMillis = clockMillis;
        new SecureRandom().nextBytes(key);
    }

    /** What an {@code Authorization} header proved. */
    sealed interface Outcome {
        record Authenticated(AdminAccount account) implements Outcome {
        }

        /** No or a wrong answer; {@code reason} is told to the client, {@code stale} asks for a silent retry. */
        record Refused(String reason, boolean stale) implements Outcome {
        }
    }

    /** The {@code WWW-Authenticate} value of a 401. */
    String challenge(boolean stale) {
        return "Digest realm=\"" + REALM + "\", qop=\"auth\", algorithm=MD5, nonce=\"" + nonce(clockMillis.getAsLong())
                + "\"" + (stale ? ", stale=true" : "");
    }

    /**
     * Checks one request's {@code Authorization} header.
     *
     * @param header     the header, or null when absent
     * @param method     the request method, part of the digest
     * @param requestUri the request target as sent (path and query), which the digest's {@code uri} must equal
     */
    Outcome check(String header, String method, String requestUri) {
        if (header == null || header.isBlank()) {
            return new Outcome.Refused("no credentials: log in with the admin-stats_credentials or"
                    + " admin-admin_credentials user", false);
        }
        if (header.regionMatches(true, 0, "Basic ", 0, "Basic ".length())) {
            return basic(header.substring("Basic ".length()).trim());
        }
        if (header.regionMatches(true, 0, "Digest ", 0, "Digest ".length())) {
            return digest(parse(header.substring("Digest ".length())), method, requestUri);
        }
        return new Outcome.Refused("unsupported authentication scheme: use Digest or Basic", false);
    }

    private Outcome basic(String encoded) {
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return new Outcome.Refused("malformed Basic credentials", false);
        }
        int colon = decoded.indexOf(':');
        String user = colon < 0 ? decoded : decoded.substring(0, colon);
        String password = colon < 0 ? "" : decoded.substring(colon + 1);
        Optional<AdminAccount> account = accounts.apply(user);
        if (account.isEmpty() || !MessageDigest.isEqual(bytes(account.get().password()), bytes(password))) {
            return wrongPassword(user);
        }
        return new Outcome.Authenticated(account.get());
    }

    private Outcome digest(Map<String, String> p, String method, String requestUri) {
        String user = p.get("username");
        String nonce = p.get("nonce");
        String response = p.get("response");
        if (user == null || nonce == null || response == null || p.get("uri") == null) {
            return new Outcome.Refused("malformed Digest credentials", false);
        }
        if (!REALM.equals(p.get("realm")) || !requestUri.equals(p.get("uri"))) {
            return new Outcome.Refused("Digest credentials for another realm or URI", false);
        }
        long issued = nonceIssuedAt(nonce);
        if (issued < 0) {
            return new Outcome.Refused("Digest nonce not issued by this node", true);
        }
        Optional<AdminAccount> account = accounts.apply(user);
        if (account.isEmpty()) {
            return wrongPassword(user);
        }
        String ha1 = md5(user + ":" + REALM + ":" + account.get().password());
        String ha2 = md5(method + ":" + p.get("uri"));
        String qop = p.get("qop");
        String expected = qop == null ? md5(ha1 + ":" + nonce + ":" + ha2)
                : md5(ha1 + ":" + nonce + ":" + p.get("nc") + ":" + p.get("cnonce") + ":" + qop + ":" + ha2);
        if (!MessageDigest.isEqual(bytes(expected), bytes(response.toLowerCase(Locale.ROOT)))) {
            return wrongPassword(user);
        }
        if (clockMillis.getAsLong() - issued > NONCE_LIFETIME_MILLIS) {
            return new Outcome.Refused("Digest nonce expired", true);
        }
        return new Outcome.Authenticated(account.get());
    }

    private static Outcome wrongPassword(String user) {
        return new Outcome.Refused("wrong user name or password for '" + user + "'", false);
    }

    private String nonce(long nowMillis) {
        String stamp = Long.toString(nowMillis);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(stamp + ":" + sign(stamp)));
    }

    /** When {@code nonce} was issued, or -1 when it is not one of ours. */
    private long nonceIssuedAt(String nonce) {
        String decoded;
        try {
            decoded = new String(Base64.getUrlDecoder().decode(nonce), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return -1;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0 || !MessageDigest.isEqual(bytes(sign(decoded.substring(0, colon))),
                bytes(decoded.substring(colon + 1)))) {
            return -1;
        }
        try {
            return Long.parseLong(decoded.substring(0, colon));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private String sign(String stamp) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            return HexFormat.of().formatHex(mac.doFinal(bytes(stamp)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + HMAC, e);
        }
    }

    private static String md5(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes(text)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks MD5", e);
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The {@code name=value} / {@code name="value"} pairs of a Digest header. */
    static Map<String, String> parse(String params) {
        Map<String, String> out = new HashMap<>();
        int i = 0;
        int n = params.length();
        while (i < n) {
            while (i < n && (params.charAt(i) == ',' || Character.isWhitespace(params.charAt(i)))) {
                i++;
            }
            int eq = params.indexOf('=', i);
            if (eq < 0) {
                break;
            }
            String name = params.substring(i, eq).trim().toLowerCase(Locale.ROOT);
            i = eq + 1;
            StringBuilder value = new StringBuilder();
            if (i < n && params.charAt(i) == '"') {
                i++;
                while (i < n && params.charAt(i) != '"') {
                    if (params.charAt(i) == '\\' && i + 1 < n) {
                        i++;
                    }
                    value.append(params.charAt(i++));
                }
                i++;
            } else {
                while (i < n && params.charAt(i) != ',') {
                    value.append(params.charAt(i++));
                }
            }
            out.put(name, value.toString().trim());
        }
        return out;
    }
}
