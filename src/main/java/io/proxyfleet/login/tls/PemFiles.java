package io.proxyfleet.login.tls;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/**
 * Reads and writes the PEM files. Keys are accepted in both the OpenSSL ({@code RSA PRIVATE KEY}, what ProxySQL
 * writes) and PKCS#8 ({@code PRIVATE KEY}) forms, so an operator may drop in files made by either tool. The usual
 * files are read with the JDK alone ({@link JdkPem}); Bouncy Castle, whose signed jars cost a node's start-up
 * several hundred milliseconds of CPU to load and verify, reads the rest and writes. Stateless; blocking file I/O,
 * never on an event loop.
 */
final class PemFiles {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private PemFiles() {
    }

    /** Every certificate in {@code file}, in file order (server certificate first in a chain). */
    static List<X509Certificate> readCertificates(Path file) {
        List<X509Certificate> plain = JdkPem.certificates(file);
        return plain != null ? plain : readCertificatesWithBouncyCastle(file);
    }

    private static List<X509Certificate> readCertificatesWithBouncyCastle(Path file) {
        List<X509Certificate> certificates = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(reader)) {
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            for (Object each = parser.readObject(); each != null; each = parser.readObject()) {
                if (each instanceof X509CertificateHolder holder) {
                    certificates.add(converter.getCertificate(holder));
                }
            }
        } catch (IOException | CertificateException e) {
            throw new TlsMaterialException("cannot read certificates from " + file + ": " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) {
            throw new TlsMaterialException("no PEM certificate in " + file);
        }
        return List.copyOf(certificates);
    }

    /** The first private key in {@code file}; encrypted keys are refused because there is no passphrase. */
    static PrivateKey readPrivateKey(Path file) {
        PrivateKey plain = JdkPem.privateKey(file);
        return plain != null ? plain : readPrivateKeyWithBouncyCastle(file);
    }

    private static PrivateKey readPrivateKeyWithBouncyCastle(Path file) {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(reader)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object each = parser.readObject(); each != null; each = parser.readObject()) {
                switch (each) {
                    case PEMKeyPair pair -> {
                        return converter.getKeyPair(pair).getPrivate();
                    }
                    case PrivateKeyInfo info -> {
                        return converter.getPrivateKey(info);
                    }
                    default -> {
                        // Parameters or certificates bundled with the key: skip to the key itself.
                    }
                }
            }
        } catch (IOException e) {
            throw new TlsMaterialException("cannot read the private key from " + file + ": " + e.getMessage(), e);
        }
        throw new TlsMaterialException("no unencrypted PEM private key in " + file);
    }

    /**
     * Writes {@code objects} as PEM to {@code file} through a temporary file and a rename, so a crash never
     * leaves a half-written file that would stop the next start. {@code secret} files are readable by the owner
     * only.
     */
    static void write(Path file, boolean secret, Object... objects) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
            for (Object each : objects) {
                pem.writeObject(each);
            }
        }
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(temp);
        if (secret) {
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        }
        Files.writeString(temp, text.toString(), StandardCharsets.US_ASCII);
        try {
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
