package io.proxyfleet.web.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.proxyfleet.admin.AdminAccount;
import io.proxyfleet.admin.AdminRole;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The digest answers RFC 7616 defines, computed here from its formulas: accepted while the nonce is fresh, a
 * silent retry ({@code stale=true}) once it expired, refused for a wrong password or another URI.
 */
class DigestAuthTest {
    private static final String URI = "/api/cluster";
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final DigestAuth auth = new DigestAuth(user -> user.equals("stats")
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
        return DigestAuth.parse(auth.challenge(false).substring("Digest ".length())).get("nonce");
    }

    @Test
    void aFreshNonceWithTheRightPasswordLogsIn() throws Exception {
        DigestAuth.Outcome outcome = auth.check(header(nonce(), "statspass", URI), "GET", URI);
        assertThat(outcome).isEqualTo(new DigestAuth.Outcome.Authenticated(
                new AdminAccount("stats", "statspass", AdminRole.STATS)));
    }

    @Test
    void anExpiredNonceAsksForASilentRetry() throws Exception {
        String nonce = nonce();
        now.addAndGet(DigestAuth.NONCE_LIFETIME_MILLIS + 1);
        assertThat(auth.check(header(nonce, "statspass", URI), "GET", URI))
                .isEqualTo(new DigestAuth.Outcome.Refused("Digest nonce expired", true));
        assertThat(auth.challenge(true)).endsWith(", stale=true");
    }

    @Test
    void aWrongPasswordOrAnotherUriIsRefused() throws Exception {
        String nonce = nonce();
        assertThat(auth.check(header(nonce, "wrong", URI), "GET", URI)).isEqualTo(
                new DigestAuth.Outcome.Refused("wrong user name or password for 'stats'", false));
        assertThat(auth.check(header(nonce, "statspass", "/api/traffic"), "GET", URI)).isEqualTo(
                new DigestAuth.Outcome.Refused("Digest credentials for another realm or URI", false));
        // an expired nonce with a wrong password is a wrong password, not a retry
        now.addAndGet(DigestAuth.NONCE_LIFETIME_MILLIS + 1);
        assertThat(auth.check(header(nonce, "wrong", URI), "GET", URI)).isEqualTo(
                new DigestAuth.Outcome.Refused("wrong user name or password for 'stats'", false));
    }
}
