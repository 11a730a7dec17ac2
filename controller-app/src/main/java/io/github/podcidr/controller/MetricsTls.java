package io.github.podcidr.controller;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The certificate of the metrics address over TLS: {@code tls.crt} and {@code tls.key} (PEM, as in a Secret of type
 * kubernetes.io/tls) from a directory, or a self-signed one made at start (an EC P-256 key, valid one year, for
 * {@code localhost} and 127.0.0.1; no name lookup at start), as controller-runtime does without a certificate: a
 * scraper of the pod IP then skips verification. The files are read
 * once, at start: a renewed certificate takes effect at the next restart.
 */
final class MetricsTls {
    /** The certificate file in a certificate directory. */
    static final String CERT_FILE = "tls.crt";
    /** The key file in a certificate directory: PKCS#8, or PKCS#1 RSA / SEC1 EC. */
    static final String KEY_FILE = "tls.key";
    private static final char[] PASSWORD = "podcidr".toCharArray(); // of an in-memory key store only

    private final KeyStore keyStore;
    private final String source;

    private MetricsTls(KeyStore keyStore, String source) {
        this.keyStore = keyStore;
        this.source = source;
    }

    /**
     * From a certificate directory, or self-signed when {@code certDir} is null.
     *
     * @param certDir the directory holding tls.crt and tls.key, or null
     * @return the certificate
     * @throws IOException if a file cannot be read or parsed
     */
    static MetricsTls of(Path certDir) throws IOException {
        try {
            return certDir == null ? selfSigned() : read(certDir);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot make the TLS certificate of the metrics address: " + e.getMessage(), e);
        }
    }

    /** Where the certificate came from, for the start log line. */
    String source() {
        return source;
    }

    /** A Jetty server TLS context with this certificate (TLS 1.2 and 1.3, Jetty's default ciphers). */
    SslContextFactory.Server contextFactory() {
        SslContextFactory.Server f = new SslContextFactory.Server();
        f.setKeyStore(keyStore);
        f.setKeyStorePassword(new String(PASSWORD));
        f.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        return f;
    }

    /** The certificate served (tests: a client that trusts exactly it). */
    X509Certificate certificate() {
        try {
            return (X509Certificate) keyStore.getCertificate("tls");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("an initialised in-memory key store", e);
        }
    }

    private static MetricsTls read(Path dir) throws IOException, GeneralSecurityException {
        Path crt = dir.resolve(CERT_FILE);
        Path key = dir.resolve(KEY_FILE);
        List<Certificate> chain = new ArrayList<>();
        try (InputStream in = Files.newInputStream(crt)) {
            chain.addAll(CertificateFactory.getInstance("X.509").generateCertificates(in));
        }
        if (chain.isEmpty()) {
            throw new IOException(crt + " holds no PEM certificate");
        }
        PrivateKey privateKey;
        try (Reader r = Files.newBufferedReader(key, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            Object o = p.readObject();
            JcaPEMKeyConverter c = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair pair) {
                privateKey = c.getKeyPair(pair).getPrivate();
            } else if (o instanceof PrivateKeyInfo info) {
                privateKey = c.getPrivateKey(info);
            } else {
                throw new IOException(key + " holds no unencrypted PEM private key (PKCS#8, RSA or EC)");
            }
        }
        return new MetricsTls(store(privateKey, chain.toArray(new Certificate[0])), dir.toString());
    }

    private static MetricsTls selfSigned() throws GeneralSecurityException, OperatorCreationException,
            IOException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = g.generateKeyPair();
        X500Name name = new X500Name("CN=podcidr-controller");
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name,
                new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(365))), name, pair.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
            new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
        return new MetricsTls(store(pair.getPrivate(), new Certificate[] {cert}), "self-signed");
    }

    private static KeyStore store(PrivateKey key, Certificate[] chain) throws GeneralSecurityException,
            IOException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("tls", key, PASSWORD, chain);
        return ks;
    }
}
