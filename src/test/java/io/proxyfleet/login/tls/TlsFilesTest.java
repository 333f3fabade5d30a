package io.proxyfleet.login.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsFilesTest {
    private static final int SOCKET_TIMEOUT_MILLIS = 5_000;

    @Test
    void firstOpenGeneratesTheThreeProxySqlFilesAndLaterOpensReuseThem(@TempDir Path dataDir) throws Exception {
        TlsFiles first = TlsFiles.open(dataDir);

        Path ca = dataDir.resolve("proxysql-ca.pem");
        Path cert = dataDir.resolve("proxysql-cert.pem");
        Path key = dataDir.resolve("proxysql-key.pem");
        assertThat(Files.readString(ca)).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(Files.readString(cert)).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(Files.readString(key)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        try (var files = Files.list(dataDir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("proxysql-ca.pem", "proxysql-cert.pem", "proxysql-key.pem");
        }

        X509Certificate caCert = PemFiles.readCertificates(ca).getFirst();
        X509Certificate serverCert = first.certificateChain().getFirst();
        serverCert.verify(caCert.getPublicKey());
        assertThat(serverCert.getIssuerX500Principal()).isEqualTo(caCert.getSubjectX500Principal());
        assertThat(caCert.getBasicConstraints()).isNotNegative();
        assertThat(serverCert.getBasicConstraints()).isEqualTo(-1);

        Map<Path, String> before = Map.of(ca, Files.readString(ca), cert, Files.readString(cert),
                key, Files.readString(key));
        FileTime keyTime = Files.getLastModifiedTime(key);
        TlsFiles second = TlsFiles.open(dataDir);

        before.forEach((file, text) -> assertThat(file).hasContent(text));
        assertThat(Files.getLastModifiedTime(key)).isEqualTo(keyTime);
        assertThat(second.certificateChain()).isEqualTo(first.certificateChain());
    }

    @Test
    void jdkClientTrustingTheGeneratedCaCompletesAHandshake(@TempDir Path dataDir) throws Exception {
        TlsFiles tls = TlsFiles.open(dataDir);

        try (TlsEchoServer server = new TlsEchoServer(tls::serverContext)) {
            for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
                try (SSLSocket socket = client(tls.caFile(), protocol, server.port())) {
                    socket.startHandshake();

                    assertThat(socket.getSession().getProtocol()).isEqualTo(protocol);
                    assertThat(socket.getSession().getPeerCertificates()[0])
                            .isEqualTo(tls.certificateChain().getFirst());
                    assertThat(echo(socket, "ping")).isEqualTo("ping");
                }
            }
        }
    }

    @Test
    void partialFilesAreReplacedByANewMatchingSet(@TempDir Path dataDir) throws Exception {
        TlsFiles original = TlsFiles.open(dataDir);
        Files.delete(dataDir.resolve("proxysql-cert.pem"));

        TlsFiles regenerated = TlsFiles.open(dataDir);

        assertThat(regenerated.certificateChain().getFirst()).isNotEqualTo(original.certificateChain().getFirst());
        regenerated.certificateChain().getFirst()
                .verify(PemFiles.readCertificates(regenerated.caFile()).getFirst().getPublicKey());
        try (TlsEchoServer server = new TlsEchoServer(regenerated::serverContext);
             SSLSocket socket = client(regenerated.caFile(), "TLSv1.3", server.port())) {
            socket.startHandshake();
        }
    }

    @Test
    void reloadPresentsReplacedFilesToNewClients(@TempDir Path dataDir, @TempDir Path otherDir) throws Exception {
        TlsFiles tls = TlsFiles.open(dataDir);
        TlsFiles other = TlsFiles.open(otherDir);

        try (TlsEchoServer server = new TlsEchoServer(tls::serverContext)) {
            for (String name : List.of(TlsFiles.CA_FILE, TlsFiles.CERT_FILE, TlsFiles.KEY_FILE)) {
                Files.copy(otherDir.resolve(name), dataDir.resolve(name),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            // Before the reload the node still presents the old certificate.
            assertThatThrownBy(() -> client(tls.caFile(), "TLSv1.3", server.port()).startHandshake())
                    .isInstanceOf(SSLHandshakeException.class);

            tls.reload();

            try (SSLSocket socket = client(tls.caFile(), "TLSv1.3", server.port())) {
                socket.startHandshake();
                assertThat(socket.getSession().getPeerCertificates()[0])
                        .isEqualTo(other.certificateChain().getFirst());
            }
        }
    }

    @Test
    void failedReloadNamesTheFileAndKeepsTheWorkingContext(@TempDir Path dataDir) throws Exception {
        TlsFiles tls = TlsFiles.open(dataDir);
        SslContext working = tls.serverContext();
        Files.writeString(dataDir.resolve("proxysql-key.pem"), "not a key\n");

        assertThatThrownBy(tls::reload)
                .isInstanceOf(TlsMaterialException.class)
                .hasMessageContaining("proxysql-key.pem");
        assertThat(tls.serverContext()).isSameAs(working);
    }

    @Test
    void keyOfAnotherCertificateIsRefused(@TempDir Path dataDir, @TempDir Path otherDir) throws Exception {
        TlsFiles.open(dataDir);
        TlsFiles.open(otherDir);
        Files.copy(otherDir.resolve(TlsFiles.KEY_FILE), dataDir.resolve(TlsFiles.KEY_FILE),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        assertThatThrownBy(() -> TlsFiles.open(dataDir))
                .isInstanceOf(TlsMaterialException.class)
                .hasMessageContaining("does not belong to the certificate");
    }

    // ---------------------------------------------------------------- helpers

    private static SSLSocket client(Path caFile, String protocol, int port) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("proxyfleet-ca", PemFiles.readCertificates(caFile).getFirst());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        SSLSocket socket = (SSLSocket) context.getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
        socket.setEnabledProtocols(new String[] {protocol});
        return socket;
    }

    private static String echo(SSLSocket socket, String text) throws Exception {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        byte[] reply = in.readNBytes(text.length());
        return new String(reply, java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** A Netty server on loopback that wraps each connection in the current context and echoes bytes back. */
    private static final class TlsEchoServer implements AutoCloseable {
        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        private final Channel channel;

        TlsEchoServer(Supplier<SslContext> context) throws InterruptedException {
            channel = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(context.get().newHandler(ch.alloc()));
                            ch.pipeline().addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
                                    ctx.writeAndFlush(msg.retain());
                                }

                                @Override
                                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                    ctx.close();
                                }
                            });
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .sync()
                    .channel();
        }

        int port() {
            return ((InetSocketAddress) channel.localAddress()).getPort();
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
