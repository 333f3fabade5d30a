package io.proxyfleet.login;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.proxyfleet.protocol.AuthPlugins;
import io.proxyfleet.protocol.Commands;
import io.proxyfleet.protocol.PacketDecoder;
import io.proxyfleet.protocol.Packets;
import io.proxyfleet.protocol.ProtocolException;
import java.lang.management.ClassLoadingMXBean;
import java.lang.management.ManagementFactory;
import java.util.Map;

/**
 * Arbitrary client bytes through the frontend codec, as a listener wires it: {@link PacketDecoder} framing with
 * its pre-login bound, then {@link FrontendHandshake} (handshake response, SSLRequest, auth switch, caching_sha2
 * full authentication, RSA), then, once logged in, COM_CHANGE_USER. The invariants: only {@link ProtocolException}
 * leaves the handshake (the sessions answer it with 1043 and close); no frame exceeds the decoder's bound; and one
 * input never allocates more than a small multiple of its own size. Without JAZZER_FUZZ this replays the corpus in
 * {@code src/test/resources/io/proxyfleet/login/FrontendCodecFuzzTestInputs} as a regression test.
 *
 * <p>Owned by the fuzzing thread; each input gets its own channel, handshake and accounts.
 */
class FrontendCodecFuzzTest {
    /** After login, the bound that mysql-max_allowed_packet gives (ProxySQL's default, 64 MiB). */
    private static final int MAX_ALLOWED_PACKET = 64 * 1024 * 1024;
    /** Fixed cost of one input (channel, pipeline, scramble, digests, an RSA attempt), whatever its bytes. */
    private static final long ALLOCATION_BASE = 4L * 1024 * 1024;
    /** How many times its own size an input may allocate on top of that (copies, strings, maps). */
    private static final long ALLOCATION_FACTOR = 64;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final ClassLoadingMXBean CLASSES = ManagementFactory.getClassLoadingMXBean();
    private static final Sha2Cache SHA2_CACHE = new Sha2Cache();

    static {
        // Each refused frame is logged at WARN for operators; millions of them would only slow the fuzzer down.
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(PacketDecoder.class))
                .setLevel(ch.qos.logback.classic.Level.ERROR);
    }
    private static final Map<String, FrontendHandshake.Account> ACCOUNTS = Map.of(
            "root", new FrontendHandshake.Account("root", "pw", false),
            "sha", new FrontendHandshake.Account("sha", "sha-pw", false),
            "hashed", new FrontendHandshake.Account("hashed", AuthPlugins.formatNativeHash(
                    AuthPlugins.nativeStage2(AuthPlugins.nativeStage1("pw"))), false),
            "empty", new FrontendHandshake.Account("empty", "", false),
            "tls", new FrontendHandshake.Account("tls", "pw", true));

    static {
        // The first input pays for class loading and static set-up (Netty's allocator, the RSA key pair): not counted.
        Sha2Rsa.publicKeyPem();
        new FrontendCodecFuzzTest().feed(false, AuthPlugins.NATIVE_PASSWORD, 1, new byte[0]);
    }

    @FuzzTest
    @DictionaryEntries({"root\u0000", "sha\u0000", "hashed\u0000", "empty\u0000", "tls\u0000",
            "mysql_native_password\u0000", "caching_sha2_password\u0000", "_client_name", "_os"})
    void clientBytes(FuzzedDataProvider data) {
        boolean tlsAvailable = data.consumeBoolean();
        String defaultPlugin = data.consumeBoolean() ? AuthPlugins.CACHING_SHA2_PASSWORD : AuthPlugins.NATIVE_PASSWORD;
        int chunk = data.consumeInt(1, Packets.HEADER_SIZE * 64);
        byte[] stream = data.consumeRemainingAsBytes();
        long classesBefore = CLASSES.getTotalLoadedClassCount();
        long before = THREADS.getCurrentThreadAllocatedBytes();
        feed(tlsAvailable, defaultPlugin, chunk, stream);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        // An input that reaches code for the first time pays for loading (and instrumenting) its classes.
        if (CLASSES.getTotalLoadedClassCount() == classesBefore) {
            assertThat(allocated).as("bytes allocated for an input of %d bytes", stream.length)
                    .isLessThan(ALLOCATION_BASE + ALLOCATION_FACTOR * stream.length);
        }
    }

    /** Feeds {@code stream} to a fresh channel, {@code chunk} bytes per read, as a socket would deliver it. */
    private void feed(boolean tlsAvailable, String defaultPlugin, int chunk, byte[] stream) {
        PacketDecoder decoder = PacketDecoder.beforeLogin();
        Driver driver = new Driver(decoder);
        EmbeddedChannel channel = new EmbeddedChannel(decoder, driver);
        driver.handshake = new FrontendHandshake(ACCOUNTS::get, "5.5.30", 1, defaultPlugin, tlsAvailable,
                "127.0.0.1", SHA2_CACHE, channel.alloc(), ByteBuf::release);
        driver.handshake.start();
        for (int offset = 0; offset < stream.length && channel.isOpen(); offset += chunk) {
            int length = Math.min(chunk, stream.length - offset);
            channel.writeInbound(Unpooled.wrappedBuffer(stream, offset, length));
        }
        channel.finishAndReleaseAll();
    }

    /** Feeds each frame to the handshake as the traffic and admin sessions do. */
    private static final class Driver extends ChannelInboundHandlerAdapter {
        private final PacketDecoder decoder;
        FrontendHandshake handshake;
        private boolean loggedIn;

        Driver(PacketDecoder decoder) {
            this.decoder = decoder;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf packet = (ByteBuf) msg;
            try {
                int payload = Packets.payloadLength(packet, packet.readerIndex());
                assertThat(payload).isEqualTo(packet.readableBytes() - Packets.HEADER_SIZE);
                assertThat(payload).isLessThanOrEqualTo(loggedIn ? MAX_ALLOWED_PACKET
                        : PacketDecoder.PRE_LOGIN_MAX_PAYLOAD);
                if (!loggedIn) {
                    onOutcome(ctx, handshake.onPacket(packet));
                } else if (payload > 0 && packet.getUnsignedByte(packet.readerIndex() + Packets.HEADER_SIZE)
                        == Commands.CHANGE_USER) {
                    onOutcome(ctx, handshake.onChangeUser(packet, handshake.serverCapabilities()));
                }
            } catch (ProtocolException e) {
                ctx.close(); // what the sessions do after answering 1043
            } finally {
                packet.release();
            }
        }

        private void onOutcome(ChannelHandlerContext ctx, FrontendHandshake.Outcome outcome) {
            switch (outcome) {
                case FrontendHandshake.Outcome.Continue c -> { }
                case FrontendHandshake.Outcome.StartTls t -> handshake.tlsEstablished();
                case FrontendHandshake.Outcome.Failure f -> ctx.close();
                case FrontendHandshake.Outcome.Success s -> {
                    loggedIn = true;
                    decoder.afterLogin(MAX_ALLOWED_PACKET);
                }
            }
        }
    }
}
