import BizDirectCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// The CA material `bizdirect serve` holds, in the CA folder (`DATA/ca`):
///
/// - `root-ca.cert.pem`: the client-certificate root's certificate. Never its key: the root
///   signs issuing CAs at a ceremony (`bizdirect ca`, `RootCA`), off this host.
/// - `issuing-ca.pem`: the issuing CA (client authentication only), certificate and key, or the
///   certificate alone when the key is in a token (`CAKeys`).
/// - `ocsp-responder.pem`: the delegated OCSP responder, short-lived, renewed while serving.
/// - `tls-ca.pem` and `tls-server.pem`: the name-constrained TLS CA and the TLS server
///   certificate it signs (absent with an external TLS certificate).
///
/// A missing, damaged or mismatched CA file stops start-up: a CA is made only for a new
/// installation (`mayCreate`), never over a database that already holds certificates.
public struct CAHierarchy: Sendable {
    /// The CA folder.
    public let directory: URL
    /// The root CA certificate (ECDSA P-384, 20 years).
    public let root: Certificate
    /// The issuing CA certificate for client certificates (P-256, 10 years, pathLen 0, EKU clientAuth).
    public let issuing: Certificate
    /// The OCSP responder (id-kp-OCSPSigning, ocsp-nocheck), renewed while serving.
    public let ocspResponder: OCSPResponderKeeper
    /// The TLS CA (name-constrained, self-signed), or nil with an external TLS certificate.
    public let tlsCA: Certificate?
    /// The TLS server certificate, PEM, leaf then TLS CA; empty with an external certificate.
    public let tlsCertificateChainPEM: [String]
    /// The TLS server key as PKCS#8 PEM (unencrypted, handed to the TLS stack in memory only).
    public let tlsPrivateKeyPEM: String
    /// Signs client certificates and CRLs.
    public let issuingSigner: any Signer
    /// True when this start made the CA.
    public let created: Bool
    /// Where the root key was left by a newcomer start, while it is still on this host.
    public let rootKeyOnHost: URL?

    /// What the TLS listeners present.
    public enum TLS: Sendable {
        /// A TLS server certificate from the name-constrained TLS CA, for these host names.
        case embedded(hostNames: [String])
        /// A certificate from outside (`--tls-certificate`): no TLS CA is made or read.
        case external
    }

    /// Where a newcomer start leaves the root key: beside the CA folder, outside what `serve`
    /// reads, until the operator moves it off the host (`bizdirect ca move-root`).
    public static func offlineRootDirectory(caDirectory: URL) -> URL {
        caDirectory.deletingLastPathComponent().appendingPathComponent("root-ca-offline")
    }

    /// Opens the CA in `directory`. When it holds no CA at all and `mayCreate`, makes one: a root
    /// in `offlineRootDirectory` (the one-command start), the issuing CA, the TLS CA. A missing TLS
    /// CA alone is made when `mayCreateTLSCA` (default: `mayCreate`), e.g. after the production
    /// ceremony installed the first issuing CA.
    public static func open(directory: URL, tls: TLS, bankName: String, keyFile: KeyFile, keys: CAKeys = .software,
                            ocspLifetime: TimeInterval = OCSPResponderKeeper.defaultLifetime, now: Date,
                            mayCreate: Bool, mayCreateTLSCA: Bool? = nil) throws(BizDirectError) -> CAHierarchy {
        let required = ["root-ca.cert.pem", "issuing-ca.pem"]
        let present = required.filter { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
        let offlineRoot = offlineRootDirectory(caDirectory: directory)
        if present.isEmpty {
            guard mayCreate else {
                throw .internal("ca.missing", "\(directory.path) holds no CA, but the database already holds certificates or is bound to a CA. Restore the CA folder from backup (or use the shared CA folder of the other instances); a new CA is never made over a populated database.")
            }
            try createForNewcomer(directory: directory, offlineRoot: offlineRoot, bankName: bankName, keyFile: keyFile, keys: keys, now: now)
        } else if present.count < required.count {
            let missing = required.filter { !present.contains($0) }.joined(separator: ", ")
            throw .internal("ca.incomplete", "The CA in \(directory.path) is incomplete (missing \(missing)). Restore it from backup; it will not be re-created.")
        }
        let root = try readCertificate(directory.appendingPathComponent("root-ca.cert.pem"))
        let (issuing, issuingKey) = try IdentityFile.read(directory, "issuing-ca", keyFile: keyFile)
        let issuingSigner = try keys.signer(for: issuing, softwareKey: issuingKey, label: keys.issuingLabel, file: "issuing-ca.pem")
        guard issuing.issuer == root.subject, root.publicKey.isValidSignature(issuing.signature, for: issuing) else {
            throw .internal("ca.chainBroken", "issuing-ca.pem was not signed by root-ca.cert.pem.")
        }
        let responder = try OCSPResponderKeeper(directory: directory, issuer: issuing, issuerSigner: issuingSigner, bankName: bankName,
                                                keyFile: keyFile, keys: keys, lifetime: ocspLifetime, now: now)
        var tlsCA: Certificate?, chain: [String] = [], tlsKey = ""
        if case .embedded(let hostNames) = tls {
            let (ca, caSigner) = try openTLSCA(directory, hostNames: hostNames, bankName: bankName, keyFile: keyFile, now: now,
                                               mayCreate: mayCreateTLSCA ?? mayCreate)
            let maker = LeafMaker(issuer: ca, signer: caSigner, bankName: bankName, now: now)
            let (server, serverKey) = try maker.ensure(directory, "tls-server", keyFile: keyFile, hostNames: hostNames, lifetime: LeafMaker.tlsLifetime)
            guard let software = serverKey as? SoftwareSigner else { throw .internal("ca.tlsKey", "The TLS server key must be a software key.") }
            tlsCA = ca
            chain = [try pem(server), try pem(ca)]
            tlsKey = PEMText.encode(software.pkcs8DER, label: "PRIVATE KEY")
        }
        let rootKey = IdentityFile.url(offlineRoot, RootCA.name)
        return CAHierarchy(directory: directory, root: root, issuing: issuing, ocspResponder: responder, tlsCA: tlsCA, tlsCertificateChainPEM: chain,
                           tlsPrivateKeyPEM: tlsKey, issuingSigner: issuingSigner, created: present.isEmpty,
                           rootKeyOnHost: FileManager.default.fileExists(atPath: rootKey.path) ? rootKey : nil)
    }

    /// SHA-256 fingerprint of the root certificate, as colon-separated hex.
    public var rootFingerprint: String { CertificateFingerprint.sha256(Self.der(root)) }
    /// SHA-256 fingerprint of the issuing CA certificate.
    public var issuingFingerprint: String { CertificateFingerprint.sha256(Self.der(issuing)) }
    /// SHA-256 fingerprint of the TLS CA certificate, when there is one.
    public var tlsCAFingerprint: String? { tlsCA.map { CertificateFingerprint.sha256(Self.der($0)) } }
    /// SHA-256 fingerprint of the TLS server certificate, when made here.
    public var tlsServerFingerprint: String? {
        tlsCertificateChainPEM.first.flatMap { try? Certificate(pemEncoded: $0) }.map { CertificateFingerprint.sha256(Self.der($0)) }
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

    /// Reads a PEM certificate file.
    public static func readCertificate(_ url: URL) throws(BizDirectError) -> Certificate {
        guard let certificate = try? Certificate(pemEncoded: KeyFile.readText(url)) else {
            throw .internal("ca.certDamaged", "\(url.lastPathComponent) is damaged.")
        }
        return certificate
    }

    /// The newcomer's CA: the root in `offlineRoot` (never read by `serve`), and the issuing CA it
    /// signs. With a token, the issuing key is the token's.
    private static func createForNewcomer(directory: URL, offlineRoot: URL, bankName: String, keyFile: KeyFile, keys: CAKeys,
                                          now: Date) throws(BizDirectError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .internal("ca.createFailed", "The CA folder \(directory.path) could not be made.")
        }
        let root = try RootCA.create(in: offlineRoot, bankName: bankName, keyFile: keyFile, now: now)
        let softwareKey = keys.store == nil ? SoftwareSigner(generating: .p256) : nil
        let tokenKey = try keys.store?.signer(label: keys.issuingLabel)
        guard let issuingKey: any Signer = softwareKey ?? tokenKey else {
            throw .internal("ca.keyMissing", "No key for the issuing CA.")
        }
        let issuing = try root.certifyIssuingCA(publicKey: issuingKey.publicKey, subject: RootCA.issuingSubject(bankName: bankName), now: now)
        try KeyFile.writeAtomically(Array(try pem(root.certificate).utf8), to: directory.appendingPathComponent("root-ca.cert.pem"), mode: 0o644)
        try IdentityFile.write(issuing, key: softwareKey, directory, "issuing-ca", keyFile: keyFile)
    }

    /// Opens the TLS CA, making it only with `mayCreate`. Host names outside its constraints stop
    /// start-up: customers trust this CA, so a new one is an operator's decision (`bizdirect ca new-tls-ca`).
    private static func openTLSCA(_ directory: URL, hostNames: [String], bankName: String, keyFile: KeyFile, now: Date,
                                  mayCreate: Bool) throws(BizDirectError) -> (Certificate, any Signer) {
        if !IdentityFile.exists(directory, TLSAuthority.name) {
            guard mayCreate else {
                throw .internal("ca.tlsMissing", "\(directory.path) holds no tls-ca.pem. Restore it from backup, or make a new TLS CA with `bizdirect ca new-tls-ca` and ask customers to trust it.")
            }
            try makeTLSCA(directory, hostNames: hostNames, bankName: bankName, keyFile: keyFile, now: now)
        }
        let (ca, key) = try IdentityFile.read(directory, TLSAuthority.name, keyFile: keyFile)
        guard let key else { throw .internal("ca.keyMissing", "tls-ca.pem holds no private key.") }
        let outside = TLSAuthority.outside(ca, hostNames: hostNames)
        guard outside.isEmpty else {
            throw .internal("ca.tlsNamesOutside", "The host names \(outside.joined(separator: ", ")) are outside the TLS CA's name constraints. Customers trust that CA only for the names it was made for: make a new one with `bizdirect ca new-tls-ca` (customers must then trust the new CA), or use an external certificate (--tls-certificate).")
        }
        return (ca, key)
    }

    /// Makes (or replaces) the TLS CA for `hostNames`; the old TLS server certificate goes with it.
    public static func makeTLSCA(_ directory: URL, hostNames: [String], bankName: String, keyFile: KeyFile, now: Date) throws(BizDirectError) {
        let (ca, key) = try TLSAuthority.create(hostNames: hostNames, bankName: bankName, now: now)
        try IdentityFile.write(ca, key: key, directory, TLSAuthority.name, keyFile: keyFile)
        unlink(IdentityFile.url(directory, "tls-server").path)
    }
}

/// SHA-256 fingerprints as shown by browsers and openssl.
public enum CertificateFingerprint {
    /// Colon-separated uppercase hex of SHA-256(der).
    public static func sha256(_ der: [UInt8]) -> String {
        Array(SHA256.hash(data: der)).map { String(format: "%02X", $0) }.joined(separator: ":")
    }
}
