package io.proxyfleet.login.tls;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Makes the self-signed CA and the server certificate a node uses when the operator supplied none, as ProxySQL
 * does on its first start. Stateless; runs on whichever blocking thread opens {@link TlsFiles}.
 */
final class CertificateAuthority {
    /** RSA 2048, as ProxySQL's generated key; accepted by every MySQL client library. */
    private static final int RSA_BITS = 2048;
    private static final String SIGNATURE = "SHA256withRSA";
    /** Long-lived like ProxySQL's: nobody rotates an auto-generated certificate. */
    private static final Duration VALIDITY = Duration.ofDays(3650);
    /** Tolerates clients whose clock runs a little behind ours. */
    private static final Duration BACKDATE = Duration.ofDays(1);
    private static final int SERIAL_BITS = 64;
    private static final X500Name CA_NAME = new X500Name("CN=ProxyFleet_Auto_Generated_CA_Certificate");
    private static final X500Name SERVER_NAME = new X500Name("CN=ProxyFleet_Auto_Generated_Server_Certificate");

    /** What {@link #generate()} produced: the CA certificate, and the server certificate with its key. */
    record Generated(X509Certificate ca, X509Certificate server, PrivateKey serverKey) {
    }

    private CertificateAuthority() {
    }

    /**
     * A fresh CA and a server certificate it signed. The CA's private key is discarded: the files are
     * regenerated as a set, never extended, so nothing else is ever signed with it.
     */
    static Generated generate() {
        try {
            SecureRandom random = new SecureRandom();
            KeyPair caKeys = newKeyPair(random);
            KeyPair serverKeys = newKeyPair(random);
            Instant now = Instant.now();
            X509Certificate ca = caCertificate(caKeys, now, random);
            X509Certificate server = serverCertificate(serverKeys.getPublic(), ca, caKeys.getPrivate(), now, random);
            return new Generated(ca, server, serverKeys.getPrivate());
        } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
            throw new TlsMaterialException("cannot generate the TLS certificates: " + e.getMessage(), e);
        }
    }

    private static KeyPair newKeyPair(SecureRandom random) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(RSA_BITS, random);
        return generator.generateKeyPair();
    }

    private static X509Certificate caCertificate(KeyPair keys, Instant now, SecureRandom random)
            throws GeneralSecurityException, OperatorCreationException, CertIOException {
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(CA_NAME, serial(random),
                Date.from(now.minus(BACKDATE)), Date.from(now.plus(VALIDITY)), CA_NAME, keys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                .addExtension(Extension.subjectKeyIdentifier, false,
                        ext.createSubjectKeyIdentifier(keys.getPublic()));
        return sign(builder, keys.getPrivate());
    }

    private static X509Certificate serverCertificate(PublicKey serverKey, X509Certificate ca, PrivateKey caKey,
                                                     Instant now, SecureRandom random)
            throws GeneralSecurityException, OperatorCreationException, CertIOException {
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, serial(random),
                Date.from(now.minus(BACKDATE)), Date.from(now.plus(VALIDITY)), SERVER_NAME, serverKey)
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true,
                        new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                .addExtension(Extension.subjectAlternativeName, false, localNames())
                .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(serverKey))
                .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
        return sign(builder, caKey);
    }

    /** Names a client verifying the host name is likely to use for a node it reaches locally. */
    private static GeneralNames localNames() {
        List<GeneralName> names = new ArrayList<>(List.of(
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.iPAddress, "::1")));
        try {
            String host = InetAddress.getLocalHost().getHostName();
            if (!host.equals("localhost")) {
                names.add(new GeneralName(GeneralName.dNSName, host));
            }
        } catch (UnknownHostException e) {
            // Without a resolvable host name the loopback names still cover local clients.
        }
        return new GeneralNames(names.toArray(GeneralName[]::new));
    }

    private static BigInteger serial(SecureRandom random) {
        return new BigInteger(SERIAL_BITS, random).setBit(SERIAL_BITS - 1);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
            throws GeneralSecurityException, OperatorCreationException {
        ContentSigner contentSigner = new JcaContentSignerBuilder(SIGNATURE).build(signer);
        return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
    }
}
