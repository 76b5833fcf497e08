import BizDirectCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// Something that can sign for a CA: a software key today, an HSM tomorrow.
///
/// The CA never touches key material directly; it asks a `Signer` for signatures over
/// DER-encoded "to be signed" structures (certificates, CRLs, OCSP responses).
public protocol Signer: Sendable {
    /// The public half of the signing key.
    var publicKey: Certificate.PublicKey { get }
    /// The algorithm this signer uses.
    var signatureAlgorithm: Certificate.SignatureAlgorithm { get }
    /// Signs `message`, returning the DER `ECDSA-Sig-Value` (the contents of the BIT STRING).
    func sign(_ message: [UInt8]) throws -> [UInt8]
}

extension Signer {
    /// The AlgorithmIdentifier OID of `signatureAlgorithm`, for structures we encode ourselves.
    var signatureAlgorithmOID: ASN1ObjectIdentifier {
        signatureAlgorithm == .ecdsaWithSHA384 ? [1, 2, 840, 10045, 4, 3, 3] : [1, 2, 840, 10045, 4, 3, 2]
    }

    /// This signer in the form swift-certificates needs to sign a certificate.
    var certificatePrivateKey: Certificate.PrivateKey { Certificate.PrivateKey(SignerPrivateKey(signer: self)) }
}

/// A software signer holding an ECDSA key in memory.
public struct SoftwareSigner: Signer {
    /// The curves a CA key may use.
    public enum Curve: String, Sendable { case p256 = "P-256", p384 = "P-384" }

    private enum Key: Sendable {
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
    }

    private let key: Key
    public let publicKey: Certificate.PublicKey
    public let signatureAlgorithm: Certificate.SignatureAlgorithm

    /// Makes a new random key on `curve`.
    public init(generating curve: Curve) {
        switch curve {
        case .p256: self.init(key: .p256(P256.Signing.PrivateKey()))
        case .p384: self.init(key: .p384(P384.Signing.PrivateKey()))
        }
    }

    /// Reads an unencrypted PKCS#8 DER private key.
    public init(pkcs8DER der: [UInt8]) throws(BizDirectError) {
        if let key = try? P384.Signing.PrivateKey(derRepresentation: der) {
            self.init(key: .p384(key))
        } else if let key = try? P256.Signing.PrivateKey(derRepresentation: der) {
            self.init(key: .p256(key))
        } else {
            throw .internal("ca.keyDamaged", "The private key could not be read.")
        }
    }

    private init(key: Key) {
        self.key = key
        switch key {
        case .p256(let k):
            publicKey = Certificate.PublicKey(k.publicKey)
            signatureAlgorithm = .ecdsaWithSHA256
        case .p384(let k):
            publicKey = Certificate.PublicKey(k.publicKey)
            signatureAlgorithm = .ecdsaWithSHA384
        }
    }

    /// The key as unencrypted PKCS#8 DER, for writing to an owner-only file.
    public var pkcs8DER: [UInt8] {
        switch key {
        case .p256(let k): Array(k.derRepresentation)
        case .p384(let k): Array(k.derRepresentation)
        }
    }

    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        switch key {
        case .p256(let k): Array(try k.signature(for: message).derRepresentation)
        case .p384(let k): Array(try k.signature(for: message).derRepresentation)
        }
    }
}

/// Adapts any `Signer` to swift-certificates' `CustomPrivateKey`, so that certificates are
/// signed through the same protocol as CRLs and OCSP responses.
struct SignerPrivateKey: CustomPrivateKey {
    let signer: any Signer

    var publicKey: Certificate.PublicKey { signer.publicKey }
    var defaultSignatureAlgorithm: Certificate.SignatureAlgorithm { signer.signatureAlgorithm }
    var supportedSignatureAlgorithms: [Certificate.SignatureAlgorithm] { [signer.signatureAlgorithm] }

    func signSynchronously(bytes: some DataProtocol, signatureAlgorithm: Certificate.SignatureAlgorithm) throws -> Certificate.Signature {
        let value = try signer.sign(Array(bytes))
        return try Certificate.Signature(signatureAlgorithm: signatureAlgorithm, signatureBytes: ASN1BitString(bytes: value[...]))
    }

    static var defaultPEMDiscriminator: String { "PRIVATE KEY" }

    func serialize(into coder: inout DER.Serializer) throws {
        throw BizDirectError.internal("ca.keyNotExportable", "A signer's key cannot be exported.")
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.publicKey == rhs.publicKey }
    func hash(into hasher: inout Hasher) { hasher.combine(publicKey) }
}

/// Where CA keys live when they are not software keys in files: a token (an HSM) reached over
/// PKCS#11. Keys are made in the token with its own tools and found by label; they never leave it.
public protocol SigningKeyStore: Sendable {
    /// What to call the store in messages, e.g. "PKCS#11 token \"bizdirect\"".
    var name: String { get }
    /// The signer for the private key labelled `label`. A missing key stops start-up with a
    /// message naming the label and the store.
    func signer(label: String) throws(BizDirectError) -> any Signer
}

/// Where the online CA keys (issuing CA, OCSP responder) live: software keys in the CA's files,
/// or keys in a token, found by label.
public struct CAKeys: Sendable {
    /// The token, or nil for software keys in files.
    public var store: (any SigningKeyStore)?
    /// The issuing CA's key label in the token.
    public var issuingLabel: String
    /// The OCSP responder's key label in the token.
    public var ocspLabel: String

    /// Keys in files, next to their certificates.
    public static let software = CAKeys(store: nil)

    /// Keys in `store` under the given labels.
    public init(store: (any SigningKeyStore)?, issuingLabel: String = "bizdirect-issuing-ca", ocspLabel: String = "bizdirect-ocsp-responder") {
        self.store = store
        self.issuingLabel = issuingLabel
        self.ocspLabel = ocspLabel
    }

    /// The signer for `certificate`: the software key read with it, or the token's key labelled
    /// `label`, checked to match.
    func signer(for certificate: Certificate, softwareKey: SoftwareSigner?, label: String, file: String) throws(BizDirectError) -> any Signer {
        guard let store else {
            guard let softwareKey else {
                throw .internal("ca.keyMissing", "\(file) holds no private key, and no PKCS#11 token is configured.")
            }
            return softwareKey
        }
        let signer = try store.signer(label: label)
        guard signer.publicKey == certificate.publicKey else {
            throw .internal("ca.keyMismatch", "The key \"\(label)\" in \(store.name) does not match the certificate in \(file).")
        }
        return signer
    }
}
