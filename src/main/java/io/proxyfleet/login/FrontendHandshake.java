package io.proxyfleet.login;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.proxyfleet.protocol.AuthPlugins;
import io.proxyfleet.protocol.AuthSwitchRequest;
import io.proxyfleet.protocol.Capabilities;
import io.proxyfleet.protocol.ErrPacket;
import io.proxyfleet.protocol.HandshakeResponse41;
import io.proxyfleet.protocol.HandshakeV10;
import io.proxyfleet.protocol.Lenenc;
import io.proxyfleet.protocol.OkPacket;
import io.proxyfleet.protocol.Packets;
import io.proxyfleet.protocol.ProtocolException;
import io.proxyfleet.protocol.StatusFlags;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The server side of the connection phase: handshake, optional TLS upgrade, and authentication with
 * mysql_native_password or caching_sha2_password (fast path, and full authentication over TLS or RSA), with
 * auth switch when the client started with another plugin. Used by the traffic and the admin listeners.
 * Owned by the event loop of the client's channel.
 */
public final class FrontendHandshake {
    /**
     * What the listener knows about a user.
     *
     * @param refusal when not null, the error sent instead of OK once the password checked out (for rules
     *                such as "admin only from loopback", which ProxySQL applies after authentication)
     */
    public record Account(String username, String password, boolean requireTls, ErrPacket refusal) {
        public Account(String username, String password, boolean requireTls) {
            this(username, password, requireTls, null);
        }

        boolean hashed() {
            return password.length() == 41 && password.charAt(0) == '*';
        }
    }

    /** Looks up accounts by name; returns {@code null} for an unknown user. */
    public interface Accounts {
        Account find(String username);
    }

    /** Result of feeding one client packet. */
    public sealed interface Outcome {
        /** A reply was written; wait for the next packet. */
        record Continue() implements Outcome { }

        /** The client sent an SSLRequest: add TLS to the pipeline, then keep feeding. */
        record StartTls() implements Outcome { }

        /** Authenticated; the OK was written. {@code stage1} is SHA1(password), {@code null} for none. */
        record Success(HandshakeResponse41 response, Account account, byte[] stage1, int nextSequenceId)
                implements Outcome { }

        /** Refused; the ERR was written and the connection must be closed after it. */
        record Failure(ErrPacket error) implements Outcome { }
    }

    private static final Outcome CONTINUE = new Outcome.Continue();
    public static final int SERVER_COLLATION = 45; // utf8mb4_general_ci, known to MySQL and MariaDB alike

    private enum Phase { RESPONSE, SWITCHED, SHA2_FULL, SHA2_RSA }

    private final Accounts accounts;
    private final java.util.function.Function<Account, ErrPacket> admission;
    private final String serverVersion;
    private final long connectionId;
    private final String defaultPlugin;
    private final boolean tlsAvailable;
    private final int extraCapabilities;
    private final String clientAddress;
    private final Sha2Cache sha2Cache;
    private final Consumer<ByteBuf> writer;
    private final ByteBufAllocator alloc;
    private byte[] scramble;
    private Phase phase = Phase.RESPONSE;
    private int sequenceId;
    private boolean tls;
    private HandshakeResponse41 response;
    private Account account;
    private String plugin;

    public FrontendHandshake(Accounts accounts, String serverVersion, long connectionId, String defaultPlugin,
                             boolean tlsAvailable, String clientAddress, Sha2Cache sha2Cache,
                             ByteBufAllocator alloc, Consumer<ByteBuf> writer) {
        this(accounts, Account::refusal, serverVersion, connectionId, defaultPlugin, tlsAvailable, 0, clientAddress,
                sha2Cache, alloc, writer);
    }

    /**
     * @param admission called once the credentials checked out, just before the OK: returns the error to send
     *                  instead, or null to let the client in (limits that must not race with other logins)
     * @param extraCapabilities offered beyond the common set, by a server whose replies support them (the traffic
     *                  port's CLIENT_SESSION_TRACK)
     */
    public FrontendHandshake(Accounts accounts, java.util.function.Function<Account, ErrPacket> admission,
                             String serverVersion, long connectionId, String defaultPlugin,
                             boolean tlsAvailable, int extraCapabilities, String clientAddress, Sha2Cache sha2Cache,
                             ByteBufAllocator alloc, Consumer<ByteBuf> writer) {
        this.accounts = accounts;
        this.admission = admission;
        this.serverVersion = serverVersion;
        this.connectionId = connectionId;
        this.defaultPlugin = AuthPlugins.CACHING_SHA2_PASSWORD.equals(defaultPlugin)
                ? AuthPlugins.CACHING_SHA2_PASSWORD : AuthPlugins.NATIVE_PASSWORD;
        this.tlsAvailable = tlsAvailable;
        this.extraCapabilities = extraCapabilities;
        this.clientAddress = clientAddress;
        this.sha2Cache = sha2Cache;
        this.alloc = alloc;
        this.writer = writer;
    }

    /** Capabilities this server offers; the session's are these ANDed with the client's. */
    public int serverCapabilities() {
        int caps = Capabilities.LONG_PASSWORD | Capabilities.FOUND_ROWS | Capabilities.LONG_FLAG
                | Capabilities.CONNECT_WITH_DB | Capabilities.LOCAL_FILES | Capabilities.IGNORE_SPACE
                | Capabilities.PROTOCOL_41 | Capabilities.INTERACTIVE | Capabilities.TRANSACTIONS
                | Capabilities.SECURE_CONNECTION | Capabilities.MULTI_STATEMENTS | Capabilities.MULTI_RESULTS
                | Capabilities.PS_MULTI_RESULTS | Capabilities.PLUGIN_AUTH | Capabilities.CONNECT_ATTRS
                | Capabilities.PLUGIN_AUTH_LENENC_CLIENT_DATA | Capabilities.DEPRECATE_EOF | extraCapabilities;
        return tlsAvailable ? caps | Capabilities.SSL : caps;
    }

    /** Sends the initial handshake. */
    public void start() {
        scramble = AuthPlugins.newScramble();
        ByteBuf out = alloc.buffer(128);
        new HandshakeV10(serverVersion, connectionId, scramble, serverCapabilities(), SERVER_COLLATION,
                StatusFlags.AUTOCOMMIT, defaultPlugin).writeTo(out, 0);
        writer.accept(out);
    }

    /** Marks the channel as encrypted, after the TLS handshake that a {@link Outcome.StartTls} asked for. */
    public void tlsEstablished() {
        this.tls = true;
    }

    /**
     * Feeds one whole client packet (header included); the caller keeps ownership of it. Each packet's size is
     * bounded by the frame decoder before login, and nothing here allocates more than the packet holds.
     *
     * @throws ProtocolException when the packet is malformed; the caller answers ER_BAD_HANDSHAKE and closes
     */
    public Outcome onPacket(ByteBuf packet) {
        sequenceId = Packets.sequenceId(packet, packet.readerIndex());
        ByteBuf payload = packet.slice(packet.readerIndex() + Packets.HEADER_SIZE,
                packet.readableBytes() - Packets.HEADER_SIZE);
        return switch (phase) {
            case RESPONSE -> onResponse(payload);
            case SWITCHED -> verify(plugin, ByteBufs.toBytes(payload));
            case SHA2_FULL -> onSha2Full(ByteBufs.toBytes(payload));
            case SHA2_RSA -> onSha2Password(Sha2Rsa.decrypt(ByteBufs.toBytes(payload), scramble));
        };
    }

    /**
     * Starts re-authentication for COM_CHANGE_USER. The client scrambled its password with the scramble of the
     * initial handshake, so verification continues exactly as at login (auth switch included).
     */
    public Outcome onChangeUser(ByteBuf packet, int sessionCapabilities) {
        sequenceId = Packets.sequenceId(packet, packet.readerIndex());
        ByteBuf payload = packet.slice(packet.readerIndex() + Packets.HEADER_SIZE + 1,
                packet.readableBytes() - Packets.HEADER_SIZE - 1);
        String user = Lenenc.readNulString(payload);
        byte[] auth;
        if ((sessionCapabilities & Capabilities.SECURE_CONNECTION) != 0) {
            int length = payload.isReadable() ? payload.readUnsignedByte() : 0;
            if (length > payload.readableBytes()) {
                throw new ProtocolException("auth response overruns COM_CHANGE_USER");
            }
            auth = new byte[length];
            payload.readBytes(auth);
        } else {
            auth = Lenenc.readNulString(payload).getBytes(StandardCharsets.UTF_8);
        }
        String db = payload.isReadable() ? Lenenc.readNulString(payload) : "";
        int newCollation = payload.isReadable(2) ? payload.readUnsignedShortLE() & 0xFF : SERVER_COLLATION;
        String clientPlugin = (sessionCapabilities & Capabilities.PLUGIN_AUTH) != 0 && payload.isReadable()
                ? Lenenc.readNulString(payload) : AuthPlugins.NATIVE_PASSWORD;
        response = new HandshakeResponse41(sessionCapabilities, 0, newCollation, user, auth, db, clientPlugin,
                java.util.Map.of());
        phase = Phase.RESPONSE;
        return authenticate();
    }

    private Outcome onResponse(ByteBuf payload) {
        if (HandshakeResponse41.isSslRequest(payload)) {
            if (!tlsAvailable) {
                return deny("SSL requested but not available", 2026, "HY000");
            }
            return new Outcome.StartTls();
        }
        response = HandshakeResponse41.decode(payload);
        return authenticate();
    }

    private Outcome authenticate() {
        account = accounts.find(response.username());
        if (account == null) {
            return accessDenied(response.authResponse().length > 0);
        }
        if (account.requireTls() && !tls) {
            return accessDenied(true);
        }
        String clientPlugin = response.authPluginName() == null ? AuthPlugins.NATIVE_PASSWORD
                : response.authPluginName();
        String wanted = account.hashed() ? AuthPlugins.NATIVE_PASSWORD
                : (isSupported(clientPlugin) ? clientPlugin : defaultPlugin);
        if (!wanted.equals(clientPlugin)) {
            plugin = wanted;
            phase = Phase.SWITCHED;
            scramble = AuthPlugins.newScramble();
            ByteBuf out = alloc.buffer(64);
            new AuthSwitchRequest(wanted, scramble).writeTo(out, nextSequence());
            writer.accept(out);
            return CONTINUE;
        }
        plugin = clientPlugin;
        return verify(clientPlugin, response.authResponse());
    }

    private static boolean isSupported(String plugin) {
        return AuthPlugins.NATIVE_PASSWORD.equals(plugin) || AuthPlugins.CACHING_SHA2_PASSWORD.equals(plugin);
    }

    private Outcome verify(String method, byte[] authResponse) {
        String password = account.password();
        if (password.isEmpty()) {
            return authResponse.length == 0 ? succeed(null) : accessDenied(true);
        }
        if (AuthPlugins.NATIVE_PASSWORD.equals(method)) {
            byte[] stage2 = account.hashed() ? AuthPlugins.parseNativeHash(password)
                    : AuthPlugins.nativeStage2(AuthPlugins.nativeStage1(password));
            byte[] stage1 = AuthPlugins.nativeVerify(stage2, scramble, authResponse);
            return stage1 == null ? accessDenied(authResponse.length > 0) : succeed(stage1);
        }
        if (authResponse.length == 0) {
            return accessDenied(false);
        }
        if (sha2Cache.contains(account.username(), password) && AuthPlugins.sha2Verify(password, scramble, authResponse)) {
            writeAuthMoreData(new byte[] {(byte) AuthPlugins.SHA2_FAST_AUTH_SUCCESS});
            return succeed(AuthPlugins.nativeStage1(password));
        }
        phase = Phase.SHA2_FULL;
        writeAuthMoreData(new byte[] {(byte) AuthPlugins.SHA2_PERFORM_FULL_AUTH});
        return CONTINUE;
    }

    private Outcome onSha2Full(byte[] data) {
        if (tls) {
            return onSha2Password(data);
        }
        if (data.length == 1 && data[0] == AuthPlugins.SHA2_REQUEST_PUBLIC_KEY) {
            phase = Phase.SHA2_RSA;
            writeAuthMoreData(Sha2Rsa.publicKeyPem().getBytes(StandardCharsets.US_ASCII));
            return CONTINUE;
        }
        // A client that already knows our key sends the encrypted password straight away.
        return onSha2Password(Sha2Rsa.decrypt(data, scramble));
    }

    private Outcome onSha2Password(byte[] nulTerminated) {
        int length = nulTerminated.length;
        while (length > 0 && nulTerminated[length - 1] == 0) {
            length--;
        }
        byte[] given = Arrays.copyOf(nulTerminated, length);
        byte[] expected = account.password().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, expected)) {
            return accessDenied(true);
        }
        sha2Cache.remember(account.username(), account.password());
        return succeed(AuthPlugins.nativeStage1(account.password()));
    }

    private void writeAuthMoreData(byte[] data) {
        ByteBuf out = alloc.buffer(Packets.HEADER_SIZE + 1 + data.length);
        int start = Packets.begin(out, nextSequence());
        out.writeByte(Packets.AUTH_MORE_DATA);
        out.writeBytes(data);
        Packets.finish(out, start);
        writer.accept(out);
    }

    private Outcome succeed(byte[] stage1) {
        ErrPacket refusal = admission.apply(account);
        if (refusal != null) {
            return deny(refusal.message(), refusal.code(), refusal.sqlState());
        }
        ByteBuf out = alloc.buffer(16);
        int seq = nextSequence();
        new OkPacket(0, 0, StatusFlags.AUTOCOMMIT, 0, null).writeTo(out, seq);
        writer.accept(out);
        return new Outcome.Success(response, account, stage1, seq + 1);
    }

    private Outcome accessDenied(boolean usingPassword) {
        String user = response == null ? "" : response.username();
        return deny("ProxySQL Error: Access denied for user '" + user + "'@'" + clientAddress + "' (using password: "
                + (usingPassword ? "YES" : "NO") + ")", 1045, "28000");
    }

    /** Refuses the login with an arbitrary error, for rules the listener enforces (loopback-only users...). */
    public Outcome deny(String message, int code, String sqlState) {
        ErrPacket error = new ErrPacket(code, sqlState, message);
        ByteBuf out = alloc.buffer(64 + message.length());
        error.writeTo(out, nextSequence());
        writer.accept(out);
        return new Outcome.Failure(error);
    }

    private int nextSequence() {
        return (sequenceId + 1) & 0xFF;
    }
}
