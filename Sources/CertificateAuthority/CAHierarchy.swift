import BizDirectCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// The CA's keys and certificates on disk: root, issuing CA, OCSP responder and TLS server.
///
/// Made once, at first start or by `bizdirect init`, and reused after. A missing, damaged or
/// mismatched CA key stops start-up: a CA is never silently re-created. The OCSP-responder and
/// TLS-server certificates are end-entity certificates and are renewed when they near expiry
/// (or, for TLS, when the host names change).
public struct CAHierarchy: Sendable {
    /// The root CA certificate (ECDSA P-384, 20 years).
    public let root: Certificate
    /// The issuing CA certificate for client certificates (P-256, 10 years, pathLen 0).
    public let issuing: Certificate
    /// The OCSP-responder certificate (id-kp-OCSPSigning, ocsp-nocheck).
    public let ocspResponder: Certificate
    /// The TLS server certificate, PEM, leaf then issuing CA.
    public let tlsCertificateChainPEM: [String]
    /// The TLS server key as PKCS#8 PEM (unencrypted, handed to the TLS stack in memory only).
    public let tlsPrivateKeyPEM: String
    /// Signs client certificates and CRLs.
    public let issuingSigner: any Signer
    /// Signs OCSP responses.
    public let ocspSigner: any Signer
    /// True when this start made the CA.
    public let created: Bool

    static let caFiles = ["root-ca.key.pem", "root-ca.cert.pem", "issuing-ca.key.pem", "issuing-ca.cert.pem"]

    /// Opens the hierarchy in `directory`, making it when the directory holds none of it.
    public static func openOrCreate(directory: URL, hostNames: [String], bankName: String, keyFile: KeyFile,
                                    now: Date) throws(BizDirectError) -> CAHierarchy {
        let present = caFiles.filter { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
        if present.isEmpty {
            try createCAs(directory: directory, bankName: bankName, keyFile: keyFile, now: now)
        } else if present.count < caFiles.count {
            let missing = caFiles.filter { !present.contains($0) }.joined(separator: ", ")
            throw .internal("ca.incomplete", "The CA in \(directory.path) is incomplete (missing \(missing)). Restore it from backup; it will not be re-created.")
        }
        let (root, _) = try loadPair(directory, "root-ca", keyFile: keyFile)
        let (issuing, issuingSigner) = try loadPair(directory, "issuing-ca", keyFile: keyFile)
        guard issuing.issuer == root.subject, root.publicKey.isValidSignature(issuing.signature, for: issuing) else {
            throw .internal("ca.chainBroken", "issuing-ca.cert.pem was not signed by root-ca.cert.pem.")
        }
        let leafMaker = LeafMaker(issuer: issuing, signer: issuingSigner, bankName: bankName, now: now)
        let (ocsp, ocspSigner) = try leafMaker.ensure(directory, "ocsp-responder", keyFile: keyFile, hostNames: nil)
        let (tls, tlsSigner) = try leafMaker.ensure(directory, "tls-server", keyFile: keyFile, hostNames: hostNames)
        return CAHierarchy(
            root: root, issuing: issuing, ocspResponder: ocsp,
            tlsCertificateChainPEM: [try pem(tls), try pem(issuing)],
            tlsPrivateKeyPEM: PEMText.encode(tlsSigner.pkcs8DER, label: "PRIVATE KEY"),
            issuingSigner: issuingSigner, ocspSigner: ocspSigner, created: present.isEmpty)
    }

    /// SHA-256 fingerprint of the root certificate, as colon-separated hex.
    public var rootFingerprint: String {
        let der = (try? DERHelpers.encode { try $0.serialize(root) }) ?? []
        return CertificateFingerprint.sha256(der)
    }

    /// PEM of a certificate.
    public static func pem(_ certificate: Certificate) throws(BizDirectError) -> String {
        do { return try certificate.serializeAsPEM().pemString + "\n" } catch {
            throw .internal("ca.encodeFailed", "A certificate could not be encoded.")
        }
    }

    /// DER of a certificate.
    public static func der(_ certificate: Certificate) -> [UInt8] {
        (try? DERHelpers.encode { try $0.serialize(certificate) }) ?? []
    }

    private static func createCAs(directory: URL, bankName: String, keyFile: KeyFile, now: Date) throws(BizDirectError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let rootKey = SoftwareSigner(generating: .p384)
            let rootName = try DistinguishedName { CountryName("JP"); OrganizationName(bankName); CommonName("BizDirect Root CA") }
            let rootKI = DERHelpers.keyIdentifier(rootKey.publicKey)[...]
            let root = try Certificate(
                version: .v3, serialNumber: .init(bytes: CertificateIssuer.positiveSerial(SystemRandom().bytes(16))),
                publicKey: rootKey.publicKey, notValidBefore: now.addingTimeInterval(-300),
                notValidAfter: now.addingTimeInterval(20 * 365.25 * 86_400), issuer: rootName, subject: rootName,
                signatureAlgorithm: rootKey.signatureAlgorithm,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(keyIdentifier: rootKI)
                }, issuerPrivateKey: rootKey.certificatePrivateKey)
            let issuingKey = SoftwareSigner(generating: .p256)
            let issuing = try Certificate(
                version: .v3, serialNumber: .init(bytes: CertificateIssuer.positiveSerial(SystemRandom().bytes(16))),
                publicKey: issuingKey.publicKey, notValidBefore: now.addingTimeInterval(-300),
                notValidAfter: now.addingTimeInterval(10 * 365.25 * 86_400), issuer: rootName,
                subject: try DistinguishedName { CountryName("JP"); OrganizationName(bankName); CommonName("BizDirect Client Issuing CA") },
                signatureAlgorithm: rootKey.signatureAlgorithm,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(keyIdentifier: DERHelpers.keyIdentifier(issuingKey.publicKey)[...])
                    AuthorityKeyIdentifier(keyIdentifier: rootKI)
                }, issuerPrivateKey: rootKey.certificatePrivateKey)
            try keyFile.writeKey(rootKey.pkcs8DER, to: directory.appendingPathComponent("root-ca.key.pem"))
            try keyFile.writeKey(issuingKey.pkcs8DER, to: directory.appendingPathComponent("issuing-ca.key.pem"))
            try Data(pem(root).utf8).write(to: directory.appendingPathComponent("root-ca.cert.pem"))
            try Data(pem(issuing).utf8).write(to: directory.appendingPathComponent("issuing-ca.cert.pem"))
        } catch let error as BizDirectError {
            throw error
        } catch {
            throw .internal("ca.createFailed", "The CA could not be created in \(directory.path).")
        }
    }

    /// Loads a certificate and its key and checks that they belong together.
    static func loadPair(_ directory: URL, _ name: String, keyFile: KeyFile) throws(BizDirectError) -> (Certificate, SoftwareSigner) {
        let certText = try KeyFile.readText(directory.appendingPathComponent("\(name).cert.pem"))
        guard let certificate = try? Certificate(pemEncoded: certText) else {
            throw .internal("ca.certDamaged", "\(name).cert.pem is damaged.")
        }
        let signer = try SoftwareSigner(pkcs8DER: keyFile.readKey(at: directory.appendingPathComponent("\(name).key.pem")))
        guard signer.publicKey == certificate.publicKey else {
            throw .internal("ca.keyMismatch", "\(name).key.pem does not match \(name).cert.pem.")
        }
        return (certificate, signer)
    }
}

/// SHA-256 fingerprints as shown by browsers and openssl.
public enum CertificateFingerprint {
    /// Colon-separated uppercase hex of SHA-256(der).
    public static func sha256(_ der: [UInt8]) -> String {
        Array(SHA256.hash(data: der)).map { String(format: "%02X", $0) }.joined(separator: ":")
    }
}
