package io.proxyfleet.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.admin.AdminAccount;
import io.proxyfleet.admin.AdminRole;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The digest answers RFC 7616 defines, computed here from its formulas: accepted while the nonce is fresh, a
 * silent retry ({@code stale=true}) once it expired, refused for a wrong password or another URI; a stats user
 * is forbidden where admin credentials are needed, with digest and basic alike.
 */
class DigestAuthTest {
    private static final String URI = "/api/cluster";
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final HttpAuth auth = new HttpAuth(user -> user.equals("stats")
            ? Optional.of(new AdminAccount("stats", "statspass", AdminRole.STATS)) : Optional.empty(), now::get);

    private static String md5(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    private static String header(String nonce, String password, String uri) throws Exception {
        String ha1 = md5("stats:ProxyFleet:" + password);
        String ha2 = md5("GET:" + uri);
        String response = md5(ha1 + ":" + nonce + ":00000001:abc:auth:" + ha2);
        return "Digest username=\"stats\", realm=\"ProxyFleet\", nonce=\"" + nonce + "\", uri=\"" + uri
                + "\", qop=auth, nc=00000001, cnonce=\"abc\", response=\"" + response + "\"";
    }

    private String nonce() {
        return HttpAuth.parse(auth.digestChallenge(false).substring("Digest ".length())).get("nonce");
    }

    @Test
    void aFreshNonceWithTheRightPasswordLogsIn() throws Exception {
        HttpAuth.Verdict outcome = auth.check(Access.STATS, "GET", URI, header(nonce(), "statspass", URI));
        assertThat(outcome).isEqualTo(new HttpAuth.Verdict.Allowed(
                new AdminAccount("stats", "statspass", AdminRole.STATS)));
    }

    @Test
    void anExpiredNonceAsksForASilentRetry() throws Exception {
        String nonce = nonce();
        now.addAndGet(HttpAuth.NONCE_LIFETIME_MILLIS + 1);
        assertThat(auth.check(Access.STATS, "GET", URI, header(nonce, "statspass", URI)))
                .isEqualTo(new HttpAuth.Verdict.Unauthorized("Digest nonce expired", true));
        assertThat(auth.digestChallenge(true)).endsWith(", stale=true");
    }

    @Test
    void aWrongPasswordOrAnotherUriIsRefused() throws Exception {
        String nonce = nonce();
        assertThat(auth.check(Access.STATS, "GET", URI, header(nonce, "wrong", URI))).isEqualTo(
                new HttpAuth.Verdict.Unauthorized("wrong user name or password for 'stats'", false));
        assertThat(auth.check(Access.STATS, "GET", URI, header(nonce, "statspass", "/api/traffic")))
                .isEqualTo(
                new HttpAuth.Verdict.Unauthorized("Digest credentials for another realm or URI", false));
        // an expired nonce with a wrong password is a wrong password, not a retry
        now.addAndGet(HttpAuth.NONCE_LIFETIME_MILLIS + 1);
        assertThat(auth.check(Access.STATS, "GET", URI, header(nonce, "wrong", URI))).isEqualTo(
                new HttpAuth.Verdict.Unauthorized("wrong user name or password for 'stats'", false));
    }

    @Test
    void aStatsUserIsForbiddenWhereAdminIsNeeded() throws Exception {
        AdminAccount stats = new AdminAccount("stats", "statspass", AdminRole.STATS);
        assertThat(auth.check(Access.ADMIN, "GET", URI, header(nonce(), "statspass", URI)))
                .isEqualTo(new HttpAuth.Verdict.Forbidden(stats));
        String basic = "Basic " + Base64.getEncoder().encodeToString("stats:statspass".getBytes(StandardCharsets.UTF_8));
        assertThat(auth.check(Access.ADMIN, "GET", URI, basic)).isEqualTo(new HttpAuth.Verdict.Forbidden(stats));
        assertThat(auth.check(Access.STATS, "GET", URI, basic)).isEqualTo(new HttpAuth.Verdict.Allowed(stats));
        assertThat(auth.check(Access.STATS, "GET", URI, null))
                .isEqualTo(new HttpAuth.Verdict.Unauthorized(HttpAuth.NO_CREDENTIALS, false));
    }
}
