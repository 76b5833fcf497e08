import BizDirectCore
import Crypto
import CryptoExtras
import Foundation
import SwiftASN1
import X509

/// A PKCS#10 request whose form, key type and proof of possession have been checked.
public struct CheckedRequest: Sendable {
    /// The requested public key.
    public let publicKey: Certificate.PublicKey
    /// SHA-256 of the DER SubjectPublicKeyInfo, used to refuse a key certified before.
    public let spkiHash: [UInt8]
}

/// Checks PKCS#10 requests (RFC 2986) strictly, before anything is issued.
///
/// The request is taken apart in order, and the first rule it breaks is the reason given:
/// size, then encoding (one DER request, nothing before or after it), then structure, version,
/// key type, signature algorithm (SHA-256 or stronger, matching the key), and last the
/// signature itself. So a P-256 key with a bad signature field is refused for its signature
/// field, never for its key type.
public enum CSRCheck {
    /// Requests larger than this are refused unread.
    public static let maximumSize = 64 * 1024

    /// The key types BizDirect certifies.
    enum KeyKind: Equatable { case ecdsa, rsa }

    static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
    static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]
    static let p256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 3, 1, 7]
    static let p384: ASN1ObjectIdentifier = [1, 3, 132, 0, 34]
    /// Accepted signature algorithms, by key kind (RFC 5758, RFC 4055).
    static let strongAlgorithms: [ASN1ObjectIdentifier: KeyKind] = [
        [1, 2, 840, 10045, 4, 3, 2]: .ecdsa, [1, 2, 840, 10045, 4, 3, 3]: .ecdsa, [1, 2, 840, 10045, 4, 3, 4]: .ecdsa,
        [1, 2, 840, 113549, 1, 1, 11]: .rsa, [1, 2, 840, 113549, 1, 1, 12]: .rsa, [1, 2, 840, 113549, 1, 1, 13]: .rsa,
    ]
    /// MD2, MD5 and SHA-1 signatures, refused for every key type.
    static let weakAlgorithms: Set<ASN1ObjectIdentifier> = [
        [1, 2, 840, 113549, 1, 1, 2], [1, 2, 840, 113549, 1, 1, 4], [1, 2, 840, 113549, 1, 1, 5],
        [1, 2, 840, 10045, 4, 1], [1, 3, 14, 3, 2, 29],
    ]

    /// Parses `input` (one DER request, or one PEM block of it), checks it, and verifies its self-signature.
    public static func check(_ input: [UInt8]) throws(BizDirectError) -> CheckedRequest {
        guard input.count <= maximumSize else {
            throw .malformed("csr.tooLarge", "The certificate request is larger than 64 KiB.")
        }
        let der = try unwrapPEM(input)
        let root: ASN1Node
        do {
            root = try DER.parse(der)
        } catch {
            throw .malformed("csr.notDER", "The certificate request is not one DER-encoded PKCS#10 request (truncated, BER, or followed by other data).")
        }
        let keyKind = try checkStructure(root)
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(derEncoded: der)
        } catch {
            throw .malformed("csr.unreadable", "The certificate request could not be read (its name, key or attributes are not valid).")
        }
        try checkKey(csr.publicKey, kind: keyKind)
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw .malformed("csr.badSignature", "The certificate request's signature does not verify (no proof of possession).")
        }
        let spki = DERHelpers.subjectPublicKeyInfo(csr.publicKey)
        return CheckedRequest(publicKey: csr.publicKey, spkiHash: Array(SHA256.hash(data: spki)))
    }

    /// The DER inside exactly one PEM block; DER input is returned as it is.
    static func unwrapPEM(_ input: [UInt8]) throws(BizDirectError) -> [UInt8] {
        let marker = Array("-----BEGIN".utf8)
        let start = input.drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d })
        guard start.starts(with: marker) else { return input }
        let text = String(decoding: input, as: UTF8.self)
        let label = "CERTIFICATE REQUEST"
        guard text.components(separatedBy: "-----BEGIN").count == 2 else {
            throw .malformed("csr.multiple", "Send exactly one certificate request.")
        }
        guard let body = PEMText.decode(text, label: label),
              let end = text.range(of: "-----END \(label)-----"),
              text[end.upperBound...].allSatisfy(\.isWhitespace) else {
            throw .malformed("csr.pem", "The PEM text is not one CERTIFICATE REQUEST block.")
        }
        return body
    }

    /// Checks the CertificationRequest shape, the version, the key type and the signature
    /// algorithm, before swift-certificates reads the rest. Returns the key kind.
    static func checkStructure(_ root: ASN1Node) throws(BizDirectError) -> KeyKind {
        let outer: [ASN1Node], info: [ASN1Node], spki: [ASN1Node]
        do {
            outer = try DERReader.children(of: root)
            guard outer.count == 3, outer[2].identifier == .bitString else { throw ASN1Error.invalidASN1Object(reason: "shape") }
            info = try DERReader.children(of: outer[0])
            guard info.count == 4, info[0].identifier == .integer,
                  info[3].identifier == .init(tagWithNumber: 0, tagClass: .contextSpecific) else { throw ASN1Error.invalidASN1Object(reason: "info") }
            spki = try DERReader.children(of: info[2])
            guard spki.count == 2 else { throw ASN1Error.invalidASN1Object(reason: "spki") }
        } catch {
            throw .malformed("csr.structure", "The certificate request does not have the PKCS#10 structure.")
        }
        let version = try? Int(derEncoded: info[0])
        guard version == 0 else {
            throw .malformed("csr.version", "Only version 1 certificate requests (version number 0) are accepted.")
        }
        let kind = try keyKind(spki[0])
        if kind == .rsa { try checkRSASize(spki[1]) }
        try checkSignatureAlgorithm(outer[1], key: kind)
        return kind
    }

    /// RSA 2048–4096, read from the RSAPublicKey itself (swift-certificates will not read smaller keys at all).
    static func checkRSASize(_ bits: ASN1Node) throws(BizDirectError) {
        guard let key = try? ASN1BitString(derEncoded: bits), let root = try? DER.parse(key.bytes),
              let parts = try? DERReader.children(of: root), parts.count == 2, parts[0].identifier == .integer,
              case .primitive(let modulus) = parts[0].content else {
            throw .malformed("csr.structure", "The certificate request's RSA key cannot be read.")
        }
        let magnitude = modulus.drop(while: { $0 == 0 })
        let size = magnitude.first.map { magnitude.count * 8 - $0.leadingZeroBitCount } ?? 0
        guard (2048...4096).contains(size) else {
            throw .malformed("csr.keyUnsupported", "RSA keys must be 2048 to 4096 bits; this one has \(size).")
        }
    }

    /// The key kind named by a SubjectPublicKeyInfo's AlgorithmIdentifier.
    static func keyKind(_ algorithm: ASN1Node) throws(BizDirectError) -> KeyKind {
        let parts = (try? DERReader.children(of: algorithm)) ?? []
        guard let first = parts.first, let oid = try? ASN1ObjectIdentifier(derEncoded: first) else {
            throw .malformed("csr.structure", "The certificate request's key has no algorithm.")
        }
        if oid == rsaEncryption { return .rsa }
        guard oid == ecPublicKey else {
            throw .malformed("csr.keyUnsupported", "The key type (\(oid)) is not supported. Use ECDSA P-256 or P-384, or RSA 2048–4096.")
        }
        let curve = parts.count == 2 ? try? ASN1ObjectIdentifier(derEncoded: parts[1]) : nil
        guard let curve, curve == p256 || curve == p384 else {
            throw .malformed("csr.keyUnsupported", "The elliptic curve is not supported. Use ECDSA P-256 or P-384, or RSA 2048–4096.")
        }
        return .ecdsa
    }

    /// SHA-256 or stronger, of the key's own kind; ECDSA with absent parameters, RSA with NULL or absent.
    static func checkSignatureAlgorithm(_ node: ASN1Node, key: KeyKind) throws(BizDirectError) {
        let parts = (try? DERReader.children(of: node)) ?? []
        guard let first = parts.first, parts.count <= 2, let oid = try? ASN1ObjectIdentifier(derEncoded: first) else {
            throw .malformed("csr.structure", "The certificate request's signature algorithm cannot be read.")
        }
        if weakAlgorithms.contains(oid) {
            throw .malformed("csr.weakSignature", "The certificate request is signed with MD5 or SHA-1. Use SHA-256 or stronger.")
        }
        guard let kind = strongAlgorithms[oid] else {
            throw .malformed("csr.signatureAlgorithm", "The certificate request's signature algorithm (\(oid)) is not supported.")
        }
        guard kind == key else {
            throw .malformed("csr.signatureMismatch", "The certificate request's signature algorithm does not match its key type.")
        }
        let parametersOK = parts.count == 1 || (kind == .rsa && parts[1].identifier == .null)
        guard parametersOK else {
            throw .malformed("csr.signatureAlgorithm", "The certificate request's signature algorithm has parameters it must not have.")
        }
    }

    /// ECDSA P-256 and P-384, and RSA 2048–4096, as the SubjectPublicKeyInfo said.
    static func checkKey(_ key: Certificate.PublicKey, kind: KeyKind) throws(BizDirectError) {
        switch kind {
        case .ecdsa:
            if P256.Signing.PublicKey(key) != nil || P384.Signing.PublicKey(key) != nil { return }
        case .rsa:
            if let rsa = _RSA.Signing.PublicKey(key) {
                guard (2048...4096).contains(rsa.keySizeInBits) else {
                    throw .malformed("csr.keyUnsupported", "RSA keys must be 2048 to 4096 bits; this one has \(rsa.keySizeInBits).")
                }
                return
            }
        }
        throw .malformed("csr.keyUnsupported", "The key type is not supported. Use ECDSA P-256 or P-384, or RSA 2048–4096.")
    }
}
