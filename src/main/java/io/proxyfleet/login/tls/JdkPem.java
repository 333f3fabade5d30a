package io.proxyfleet.login.tls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PEM files a node usually has, read with the JDK alone: certificates, and an unencrypted private key in
 * PKCS#8 ({@code PRIVATE KEY}) or, for RSA, OpenSSL's PKCS#1 ({@code RSA PRIVATE KEY}, what ProxySQL and the first
 * start write). Anything else (encrypted keys, SEC1 EC keys, extra blocks) gives {@code null}, and {@link PemFiles}
 * reads it with Bouncy Castle as before, so the two readers accept the same files. Stateless; blocking file I/O.
 */
final class JdkPem {
    private static final Pattern BLOCK =
            Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)\\s*-----END \\1-----");
    private static final String PKCS8 = "PRIVATE KEY";
    private static final String PKCS1_RSA = "RSA PRIVATE KEY";
    private static final List<String> PKCS8_ALGORITHMS = List.of("RSA", "EC", "RSASSA-PSS");
    /** DER of PKCS#8's version 0 and AlgorithmIdentifier {rsaEncryption, NULL}, which a PKCS#1 key lacks. */
    private static final byte[] PKCS8_RSA_PREFIX = {
        0x02, 0x01, 0x00,
        0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    private static final int DER_SEQUENCE = 0x30;
    private static final int DER_OCTET_STRING = 0x04;
    private static final int DER_SHORT_LENGTH_LIMIT = 0x80;
    private static final int DER_LONG_LENGTH = 0x80;
    private static final int BYTE_BITS = 8;
    private static final int BYTE_MASK = 0xff;

    private JdkPem() {
    }

    /** The certificates of a file holding only certificates, in order; null when it holds anything else. */
    static List<X509Certificate> certificates(Path file) {
        String text = read(file);
        List<X509Certificate> certificates = new ArrayList<>();
        Matcher block = BLOCK.matcher(text);
        int end = 0;
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            while (block.find()) {
                if (!text.substring(end, block.start()).isBlank() || !block.group(1).equals("CERTIFICATE")) {
                    return null;
                }
                end = block.end();
                try (InputStream der = new java.io.ByteArrayInputStream(decode(block.group(2)))) {
                    Certificate each = factory.generateCertificate(der);
                    if (!(each instanceof X509Certificate x509)) {
                        return null;
                    }
                    certificates.add(x509);
                }
            }
        } catch (CertificateException | IllegalArgumentException | IOException e) {
            return null;
        }
        return certificates.isEmpty() || !text.substring(end).isBlank() ? null : List.copyOf(certificates);
    }

    /** The key of a file holding exactly one unencrypted PKCS#8 or PKCS#1 RSA key; null otherwise. */
    static PrivateKey privateKey(Path file) {
        String text = read(file);
        Matcher block = BLOCK.matcher(text);
        if (!block.find() || !text.substring(0, block.start()).isBlank() || !text.substring(block.end()).isBlank()) {
            return null;
        }
        try {
            byte[] der = decode(block.group(2));
            return switch (block.group(1)) {
                case PKCS8 -> pkcs8(der);
                case PKCS1_RSA -> KeyFactory.getInstance("RSA").generatePrivate(
                        new PKCS8EncodedKeySpec(derWrap(DER_SEQUENCE, PKCS8_RSA_PREFIX, derWrap(DER_OCTET_STRING, der))));
                default -> null;
            };
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return null;
        }
    }

    private static PrivateKey pkcs8(byte[] der) {
        for (String algorithm : PKCS8_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // not this algorithm: try the next
            }
        }
        return null;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            // Not ours to report: the Bouncy Castle reader names the file in its error.
            return "";
        }
    }

    /** Base64 body of a block; headers such as {@code Proc-Type} (an encrypted key) fail the pattern already. */
    private static byte[] decode(String body) {
        return Base64.getMimeDecoder().decode(body);
    }

    /** A DER element of {@code tag} holding the concatenated {@code parts}. */
    private static byte[] derWrap(int tag, byte[]... parts) {
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            content.writeBytes(part);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int length = content.size();
        if (length < DER_SHORT_LENGTH_LIMIT) {
            out.write(length);
        } else {
            int bytes = (Integer.SIZE - Integer.numberOfLeadingZeros(length) + BYTE_BITS - 1) / BYTE_BITS;
            out.write(DER_LONG_LENGTH | bytes);
            for (int shift = (bytes - 1) * BYTE_BITS; shift >= 0; shift -= BYTE_BITS) {
                out.write((length >> shift) & BYTE_MASK);
            }
        }
        out.writeBytes(content.toByteArray());
        return out.toByteArray();
    }
}
