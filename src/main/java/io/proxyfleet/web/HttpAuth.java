package io.proxyfleet.web;

import com.sun.net.httpserver.HttpExchange;
import io.proxyfleet.admin.AdminAccount;
import io.proxyfleet.admin.AdminRole;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HTTP basic and digest (RFC 7616, MD5, {@code qop=auth}) authentication against the runtime admin credentials,
 * which ProxySQL keeps in clear text (so digest can be checked), for the REST port and the web dashboard alike.
 * Nonces are stateless: a timestamp signed with a key made at start-up, valid for {@link #NONCE_LIFETIME_MILLIS};
 * an expired nonce, or one this node did not issue (a restart, another node), is answered with {@code stale=true}
 * so browsers retry without asking again. Nonce counts are not tracked, so a captured digest header can be
 * replayed for the same URI within the nonce lifetime (use TLS or a trusted network, as for ProxySQL).
 *
 * <p>Threads: immutable after construction apart from the {@link Mac} made per call; any handler thread may call it.
 */
public final class HttpAuth {
    public static final String REALM = "ProxyFleet";
    /** The reason of a request with no {@code Authorization} header; each server adds its own hint to it. */
    public static final String NO_CREDENTIALS = "no credentials";
    static final long NONCE_LIFETIME_MILLIS = TimeUnit.MINUTES.toMillis(5);
    private static final int KEY_BYTES = 32;
    private static final String HMAC = "HmacSHA256";
    private static final String BASIC = "Basic ";
    private static final String DIGEST = "Digest ";

    /** The outcome of checking a request's {@code Authorization} header against the {@link Access} it needs. */
    public sealed interface Verdict {
        record Allowed(AdminAccount account) implements Verdict {
        }

        /** 401: no, malformed or wrong credentials; {@code stale} asks the client for a silent retry. */
        record Unauthorized(String reason, boolean stale) implements Verdict {
        }

        /** 403: a stats user where admin credentials are needed. */
        record Forbidden(AdminAccount account) implements Verdict {
        }
    }

    private final byte[] key = new byte[KEY_BYTES];
    private final Function<String, Optional<AdminAccount>> accounts;
    private final LongSupplier clockMillis;

    /** @param accounts the admin login named by a user name, if any ({@code AdminEngine::account}) */
    public HttpAuth(Function<String, Optional<AdminAccount>> accounts) {
        this(accounts, System::currentTimeMillis);
    }

    /** With the clock nonces are stamped and checked by (tests move it past a nonce's lifetime). */
    HttpAuth(Function<String, Optional<AdminAccount>> accounts, LongSupplier clockMillis) {
        this.accounts = accounts;
        this.clockMillis = clockMillis;
        new SecureRandom().nextBytes(key);
    }

    /** The digest {@code WWW-Authenticate} value of a 401. */
    public String digestChallenge(boolean stale) {
        return "Digest realm=\"" + REALM + "\", qop=\"auth\", algorithm=MD5, nonce=\"" + nonce(clockMillis.getAsLong())
                + "\"" + (stale ? ", stale=true" : "");
    }

    /** The basic {@code WWW-Authenticate} value of a 401, offered after the digest one where clients script. */
    public static String basicChallenge() {
        return "Basic realm=\"" + REALM + "\", charset=\"UTF-8\"";
    }

    /** Checks the {@code Authorization} header of {@code exchange} against the {@code access} it needs. */
    public Verdict check(Access access, HttpExchange exchange) {
        String query = exchange.getRequestURI().getRawQuery();
        String target = exchange.getRequestURI().getRawPath() + (query == null ? "" : "?" + query);
        return check(access, exchange.getRequestMethod(), target,
                exchange.getRequestHeaders().getFirst("Authorization"));
    }

    /**
     * Checks one request's {@code Authorization} header.
     *
     * @param access        {@link Access#STATS} or {@link Access#ADMIN}: what the request needs
     * @param method        the request method, part of the digest
     * @param requestUri    the request target as sent (path and query), which the digest's {@code uri} must equal
     * @param authorization the header, or null when absent
     */
    public Verdict check(Access access, String method, String requestUri, String authorization) {
        Verdict proved = authenticate(method, requestUri, authorization);
        if (proved instanceof Verdict.Allowed(AdminAccount account) && access == Access.ADMIN
                && account.role() != AdminRole.ADMIN) {
            return new Verdict.Forbidden(account);
        }
        return proved;
    }

    private Verdict authenticate(String method, String requestUri, String header) {
        if (header == null || header.isBlank()) {
            return new Verdict.Unauthorized(NO_CREDENTIALS, false);
        }
        if (header.regionMatches(true, 0, BASIC, 0, BASIC.length())) {
            return basic(header.substring(BASIC.length()).trim());
        }
        if (header.regionMatches(true, 0, DIGEST, 0, DIGEST.length())) {
            return digest(parse(header.substring(DIGEST.length())), method, requestUri);
        }
        return new Verdict.Unauthorized("unsupported authentication scheme: use Digest or Basic", false);
    }

    private Verdict basic(String encoded) {
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return new Verdict.Unauthorized("malformed Basic credentials", false);
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            return wrongPassword(decoded);
        }
        String user = decoded.substring(0, colon);
        Optional<AdminAccount> account = accounts.apply(user);
        if (account.isEmpty() || !MessageDigest.isEqual(bytes(account.get().password()),
                bytes(decoded.substring(colon + 1)))) {
            return wrongPassword(user);
        }
        return new Verdict.Allowed(account.get());
    }

    private Verdict digest(Map<String, String> p, String method, String requestUri) {
        String user = p.get("username");
        String nonce = p.get("nonce");
        String uri = p.get("uri");
        String response = p.get("response");
        if (user == null || nonce == null || response == null || uri == null) {
            return new Verdict.Unauthorized("malformed Digest credentials", false);
        }
        // A response computed for another URI (replayed from another request) does not count.
        if (!REALM.equals(p.get("realm")) || !requestUri.equals(uri)) {
            return new Verdict.Unauthorized("Digest credentials for another realm or URI", false);
        }
        long issued = nonceIssuedAt(nonce);
        if (issued < 0) {
            return new Verdict.Unauthorized("Digest nonce not issued by this node", true);
        }
        Optional<AdminAccount> account = accounts.apply(user);
        if (account.isEmpty()) {
            return wrongPassword(user);
        }
        String ha1 = md5(account.get().username() + ":" + REALM + ":" + account.get().password());
        String ha2 = md5(method + ":" + uri);
        String qop = p.get("qop");
        String expected = qop == null ? md5(ha1 + ":" + nonce + ":" + ha2)
                : md5(ha1 + ":" + nonce + ":" + p.getOrDefault("nc", "") + ":" + p.getOrDefault("cnonce", "")
                        + ":" + qop + ":" + ha2);
        if (!MessageDigest.isEqual(bytes(expected), bytes(response.toLowerCase(Locale.ROOT)))) {
            return wrongPassword(user);
        }
        // Only a right answer learns that its nonce is stale, so a retry never probes passwords silently.
        long age = clockMillis.getAsLong() - issued;
        if (age < 0 || age > NONCE_LIFETIME_MILLIS) {
            return new Verdict.Unauthorized("Digest nonce expired", true);
        }
        return new Verdict.Allowed(account.get());
    }

    private static Verdict wrongPassword(String user) {
        return new Verdict.Unauthorized("wrong user name or password for '" + user + "'", false);
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

    static String md5(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes(text)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks MD5", e);
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The {@code name=value} / {@code name="value"} pairs of a Digest header; quoted values may hold commas. */
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
