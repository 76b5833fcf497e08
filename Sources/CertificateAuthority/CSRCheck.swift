import BizDirectCore
import Crypto
import CryptoExtras
import SwiftASN1
import X509

/// A PKCS#10 request whose form, key type and proof of possession have been checked.
public struct CheckedRequest: Sendable {
    /// The requested public key.
    public let publicKey: Certificate.PublicKey
    /// SHA-256 of the DER SubjectPublicKeyInfo, used to refuse a key certified before.
    public let spkiHash: [UInt8]
}

/// Checks PKCS#10 requests (RFC 2986) before anything is issued.
public enum CSRCheck {
    /// Requests larger than this are refused unread.
    public static let maximumSize = 64 * 1024

    /// Parses `der` (or PEM text bytes), verifies its self-signature and the key type.
    public static func check(_ input: [UInt8]) throws(BizDirectError) -> CheckedRequest {
        guard input.count <= maximumSize else {
            throw .malformed("csr.tooLarge", "The certificate request is larger than 64 KiB.")
        }
        let der = PEMText.decode(String(decoding: input, as: UTF8.self), label: "CERTIFICATE REQUEST") ?? input
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(derEncoded: der)
        } catch {
            if let algorithm = keyAlgorithm(der) {
                throw .malformed("csr.keyUnsupported", "The key type (\(algorithm)) is not supported. Use ECDSA P-256 or P-384, or RSA 2048–4096.")
            }
            throw .malformed("csr.unreadable", "The certificate request could not be read (truncated or not PKCS#10).")
        }
        try checkKey(csr.publicKey)
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw .malformed("csr.badSignature", "The certificate request's signature does not verify (no proof of possession).")
        }
        let spki = DERHelpers.subjectPublicKeyInfo(csr.publicKey)
        return CheckedRequest(publicKey: csr.publicKey, spkiHash: Array(SHA256.hash(data: spki)))
    }

    /// The SubjectPublicKeyInfo algorithm OID of a well-formed request whose key swift-certificates
    /// cannot represent (so that the refusal names the key, not the format).
    static func keyAlgorithm(_ der: [UInt8]) -> String? {
        guard let root = try? DER.parse(der), let request = try? DERHelpers.children(of: root), request.count == 3,
              let info = try? DERHelpers.children(of: request[0]), info.count >= 3,
              let spki = try? DERHelpers.children(of: info[2]), spki.count == 2,
              let algorithm = try? DERHelpers.children(of: spki[0]), let first = algorithm.first,
              let oid = try? ASN1ObjectIdentifier(derEncoded: first) else { return nil }
        return oid.description
    }

    /// Accepts ECDSA P-256 and P-384, and RSA 2048–4096; refuses anything else with a reason.
    static func checkKey(_ key: Certificate.PublicKey) throws(BizDirectError) {
        if P256.Signing.PublicKey(key) != nil || P384.Signing.PublicKey(key) != nil { return }
        if let rsa = _RSA.Signing.PublicKey(key) {
            guard (2048...4096).contains(rsa.keySizeInBits) else {
                throw .malformed("csr.keyUnsupported", "RSA keys must be 2048 to 4096 bits; this one has \(rsa.keySizeInBits).")
            }
            return
        }
        throw .malformed("csr.keyUnsupported", "The key type is not supported. Use ECDSA P-256 or P-384, or RSA 2048–4096.")
    }
}
