package io.proxyfleet.login.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JDK-only PEM reader gives what Bouncy Castle gives, and leaves every other file to it. */
class JdkPemTest {
    private static final int EC_BITS = 256;

    @Test
    void readsTheFilesAFirstStartWritesLikeBouncyCastle(@TempDir Path dataDir) throws Exception {
        TlsFiles.open(dataDir);
        Path key = dataDir.resolve(TlsFiles.KEY_FILE);
        Path cert = dataDir.resolve(TlsFiles.CERT_FILE);

        assertThat(Files.readString(key)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        PrivateKey jdk = JdkPem.privateKey(key);
        assertThat(jdk).isNotNull();
        assertThat(jdk.getEncoded()).isEqualTo(bouncyCastleKey(key).getEncoded());
        assertThat(JdkPem.certificates(cert)).isEqualTo(PemFiles.readCertificates(cert)).hasSize(1);
    }

    @Test
    void readsPkcs8KeysOfRsaAndEc(@TempDir Path dir) throws Exception {
        for (KeyPair pair : List.of(generate("RSA", 2048), generate("EC", EC_BITS))) {
            Path file = dir.resolve(pair.getPrivate().getAlgorithm() + ".pem");
            Files.writeString(file, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));

            assertThat(JdkPem.privateKey(file).getEncoded()).isEqualTo(pair.getPrivate().getEncoded());
            assertThat(PemFiles.readPrivateKey(file).getAlgorithm()).isEqualTo(pair.getPrivate().getAlgorithm());
        }
    }

    @Test
    void anEncryptedKeyIsLeftToBouncyCastleWhichRefusesIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("encrypted.pem");
        Files.writeString(file, "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                + "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n"
                + Base64.getMimeEncoder().encodeToString(new byte[64]) + "\n-----END RSA PRIVATE KEY-----\n");

        assertThat(JdkPem.privateKey(file)).isNull();
        assertThatThrownBy(() -> PemFiles.readPrivateKey(file))
                .isInstanceOf(TlsMaterialException.class)
                .hasMessageContaining(file.toString());
    }

    @Test
    void aCertificateFileWithAKeyInItIsReadByBouncyCastle(@TempDir Path dataDir) throws Exception {
        TlsFiles.open(dataDir);
        Path cert = dataDir.resolve(TlsFiles.CERT_FILE);
        Path mixed = dataDir.resolve("mixed.pem");
        Files.writeString(mixed, Files.readString(cert) + Files.readString(dataDir.resolve(TlsFiles.KEY_FILE)));

        assertThat(JdkPem.certificates(mixed)).isNull();
        List<X509Certificate> read = PemFiles.readCertificates(mixed);
        assertThat(read).isEqualTo(PemFiles.readCertificates(cert));
    }

    private static PrivateKey bouncyCastleKey(Path file) throws Exception {
        // The Bouncy Castle reader, reached through a file the JDK reader refuses: the same key after a comment line.
        Path commented = file.resolveSibling("commented.pem");
        Files.writeString(commented, "comment\n" + Files.readString(file));
        assertThat(JdkPem.privateKey(commented)).isNull();
        return PemFiles.readPrivateKey(commented);
    }

    private static KeyPair generate(String algorithm, int bits) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
        generator.initialize(bits);
        return generator.generateKeyPair();
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
