import BizDirectCore
import CertificateAuthority
import Crypto
import CryptoExtras
import Foundation
import SwiftASN1
import X509

/// Keys and PKCS#10 requests made the way a browser would make them.
public enum CertificateFixtures {
    /// A request signed by `key`, with a subject the CA must ignore.
    public static func csr(key: Certificate.PrivateKey, subject: String = "CN=ignored by the CA") throws -> [UInt8] {
        let request = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName(subject) }, privateKey: key,
            attributes: CertificateSigningRequest.Attributes())
        var coder = DER.Serializer()
        try coder.serialize(request)
        return coder.serializedBytes
    }

    /// A new P-256 key.
    /// A PKCS#10 request (DER) from a fresh P-256 key.
    public static func freshCSR() throws -> [UInt8] {
        try csr(key: Certificate.PrivateKey(P256.Signing.PrivateKey()))
    }

    public static func p256() -> (P256.Signing.PrivateKey, Certificate.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        return (key, Certificate.PrivateKey(key))
    }

    /// A self-signed certificate from a CA that is not ours.
    public static func foreignCertificate() throws -> (Certificate, P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("Somebody Else's CA") }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: Date() - 60,
            notValidAfter: Date() + 86_400, issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.notCertificateAuthority) },
            issuerPrivateKey: .init(key))
        return (certificate, key)
    }

    /// One request of each bad kind, with the reason the CA must give: (label, bytes, reason).
    public static func badRequests() throws -> [(String, [UInt8], String)] {
        let valid = try csr(key: p256().1)
        var wrongSignature = valid
        wrongSignature[wrongSignature.count - 5] ^= 0x01
        let ed25519 = try csr(key: Certificate.PrivateKey(Curve25519.Signing.PrivateKey()))
        let rsa1024 = try csr(key: Certificate.PrivateKey(try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024))))
        return [
            ("truncated", Array(valid.prefix(valid.count / 2)), "csr.notDER"),
            ("garbage", Array("this is not a certificate request".utf8), "csr.notDER"),
            ("oversized", [UInt8](repeating: 0x30, count: 64 * 1024 + 1), "csr.tooLarge"),
            ("wrong signature", wrongSignature, "csr.badSignature"),
            ("Ed25519 key", ed25519, "csr.keyUnsupported"),
            ("RSA-1024 key", rsa1024, "csr.keyUnsupported"),
        ]
    }

    /// PEM of DER certificate bytes.
    /// The DER of the first certificate in PEM `text`.
    public static func derOfPEM(_ text: String) throws -> [UInt8] {
        guard let body = text.components(separatedBy: "-----BEGIN CERTIFICATE-----").dropFirst().first?
                .components(separatedBy: "-----END CERTIFICATE-----").first,
              let der = Data(base64Encoded: body.filter { !$0.isWhitespace }) else {
            throw BizDirectError.malformed("test.pem", "no certificate in the PEM text")
        }
        return Array(der)
    }

    public static func pem(certificateDER: [UInt8]) -> String {
        PEMText.encode(certificateDER, label: "CERTIFICATE")
    }
}
