import BizDirectCore
import Foundation
import SwiftASN1
import X509

/// The client-certificate root CA: the trust anchor of every customer and staff certificate.
///
/// It signs only issuing-CA certificates, at a ceremony (`bizdirect ca`), on a machine that
/// `bizdirect serve` never reads from: `serve` holds the root's certificate, never its key.
/// Its key is a software key in `root-ca.pem` (encrypted under the key passphrase when one is
/// set) or a key in a token.
public struct RootCA: Sendable {
    /// The root certificate (self-signed, ECDSA P-384, 20 years).
    public let certificate: Certificate
    let signer: any Signer

    /// The file name of the root's certificate and key.
    public static let name = "root-ca"
    /// 20 years.
    static let lifetime: TimeInterval = 20 * 365.25 * 86_400
    /// 10 years.
    public static let issuingLifetime: TimeInterval = 10 * 365.25 * 86_400

    /// Makes a new root in `directory` (which must hold none): a new P-384 key, or the token key
    /// `signer` when given (its certificate alone is written then).
    public static func create(in directory: URL, bankName: String, keyFile: KeyFile, now: Date,
                              signer tokenSigner: (any Signer)? = nil) throws(BizDirectError) -> RootCA {
        guard !IdentityFile.exists(directory, name) else {
            throw .internal("ca.rootExists", "\(directory.path) already holds a root CA; it is never replaced.")
        }
        let softwareKey = tokenSigner == nil ? SoftwareSigner(generating: .p384) : nil
        guard let signer: any Signer = tokenSigner ?? softwareKey else { throw .internal("ca.keyMissing", "No key for the root CA.") }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let subject = try DistinguishedName { CountryName("JP"); OrganizationName(bankName); CommonName("BizDirect Root CA") }
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(bytes: CertificateIssuer.positiveSerial(SystemRandom().bytes(16))),
                publicKey: signer.publicKey, notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(lifetime),
                issuer: subject, subject: subject, signatureAlgorithm: signer.signatureAlgorithm,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(keyIdentifier: DERHelpers.keyIdentifier(signer.publicKey)[...])
                }, issuerPrivateKey: signer.certificatePrivateKey)
            try IdentityFile.write(certificate, key: softwareKey, directory, name, keyFile: keyFile)
            return RootCA(certificate: certificate, signer: signer)
        } catch let error as BizDirectError {
            throw error
        } catch {
            throw .internal("ca.createFailed", "The root CA could not be made in \(directory.path).")
        }
    }

    /// Opens the root in `directory`, with its software key or the token's key labelled `label`.
    public static func open(_ directory: URL, keyFile: KeyFile, store: (any SigningKeyStore)? = nil,
                            label: String = "bizdirect-root-ca") throws(BizDirectError) -> RootCA {
        let (certificate, key) = try IdentityFile.read(directory, name, keyFile: keyFile)
        let signer = try CAKeys(store: store).signer(for: certificate, softwareKey: key, label: label, file: "\(name).pem")
        return RootCA(certificate: certificate, signer: signer)
    }

    /// Certifies an issuing CA's key, taken from its PKCS#10 request (PEM or DER, self-signed by
    /// that key). The request's subject is kept; everything else is the root's decision.
    public func certifyIssuingCA(request: [UInt8], now: Date, lifetime: TimeInterval = issuingLifetime) throws(BizDirectError) -> Certificate {
        let text = String(decoding: request, as: UTF8.self)
        let der = PEMText.decode(text, label: "CERTIFICATE REQUEST") ?? request
        guard let csr = try? CertificateSigningRequest(derEncoded: der), csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw .internal("ca.requestInvalid", "The issuing-CA request is not a PKCS#10 request signed by its own key.")
        }
        return try certifyIssuingCA(publicKey: csr.publicKey, subject: csr.subject, now: now, lifetime: lifetime)
    }

    /// Certifies `publicKey` as an issuing CA for client certificates: pathLen 0, and an extended
    /// key usage of client authentication and OCSP signing only, so that a verifier that applies
    /// EKU constraints along the chain refuses any server certificate it might sign.
    public func certifyIssuingCA(publicKey: Certificate.PublicKey, subject: DistinguishedName, now: Date,
                                 lifetime: TimeInterval = issuingLifetime) throws(BizDirectError) -> Certificate {
        do {
            return try Certificate(
                version: .v3, serialNumber: .init(bytes: CertificateIssuer.positiveSerial(SystemRandom().bytes(16))),
                publicKey: publicKey, notValidBefore: now.addingTimeInterval(-300),
                notValidAfter: min(now.addingTimeInterval(lifetime), certificate.notValidAfter), issuer: certificate.subject,
                subject: subject, signatureAlgorithm: signer.signatureAlgorithm,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    try ExtendedKeyUsage([.clientAuth, .ocspSigning])
                    SubjectKeyIdentifier(keyIdentifier: DERHelpers.keyIdentifier(publicKey)[...])
                    AuthorityKeyIdentifier(keyIdentifier: DERHelpers.keyIdentifier(certificate.publicKey)[...])
                }, issuerPrivateKey: signer.certificatePrivateKey)
        } catch {
            throw .internal("ca.signFailed", "The issuing-CA certificate could not be made.")
        }
    }

    /// The subject of a new issuing CA.
    public static func issuingSubject(bankName: String, generation: Int = 1) throws(BizDirectError) -> DistinguishedName {
        do {
            let name = generation > 1 ? "BizDirect Client Issuing CA \(generation)" : "BizDirect Client Issuing CA"
            return try DistinguishedName { CountryName("JP"); OrganizationName(bankName); CommonName(name) }
        } catch {
            throw .internal("ca.name", "The issuing CA's name could not be made.")
        }
    }

    /// A PKCS#10 request (PEM) for an issuing CA key held by `signer`, to take to the root.
    public static func issuingRequest(signer: any Signer, subject: DistinguishedName) throws(BizDirectError) -> String {
        do {
            let csr = try CertificateSigningRequest(version: .v1, subject: subject, privateKey: signer.certificatePrivateKey,
                                                    attributes: .init(), signatureAlgorithm: signer.signatureAlgorithm)
            return try csr.serializeAsPEM().pemString + "\n"
        } catch {
            throw .internal("ca.requestFailed", "The issuing-CA request could not be made.")
        }
    }
}

/// The TLS CA: a self-signed CA, name-constrained to the configured host names, that signs
/// only the TLS server certificate. Customers trust this CA for the bank's sites, never the
/// client-certificate root; even with its key, nobody can intercept any other site.
enum TLSAuthority {
    static let name = "tls-ca"

    /// A new TLS CA for `hostNames`.
    static func create(hostNames: [String], bankName: String, now: Date) throws(BizDirectError) -> (Certificate, SoftwareSigner) {
        let key = SoftwareSigner(generating: .p256)
        do {
            let subject = try DistinguishedName { CountryName("JP"); OrganizationName(bankName); CommonName("BizDirect TLS CA") }
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(bytes: CertificateIssuer.positiveSerial(SystemRandom().bytes(16))),
                publicKey: key.publicKey, notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(RootCA.issuingLifetime),
                issuer: subject, subject: subject, signatureAlgorithm: key.signatureAlgorithm,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    try ExtendedKeyUsage([.serverAuth])
                    Critical(constraints(hostNames))
                    SubjectKeyIdentifier(keyIdentifier: DERHelpers.keyIdentifier(key.publicKey)[...])
                }, issuerPrivateKey: key.certificatePrivateKey)
            return (certificate, key)
        } catch {
            throw .internal("ca.signFailed", "The TLS CA could not be made.")
        }
    }

    /// Permitted DNS subtrees for exactly the DNS names among `hostNames` (each also permits its
    /// subdomains). With no IP address among them, every IPv4 and IPv6 address is excluded, so
    /// the CA cannot sign for any address. With an IP address among them (the development
    /// default 127.0.0.1 and ::1) the CA carries no IP constraint at all: BoringSSL, the TLS stack
    /// of SwiftNIO and many others, refuses every chain whose CA has an IP-address constraint and
    /// whose leaf has an IP-address name (`nc_match_single` answers "unsupported constraint type"),
    /// so such a CA is constrained by DNS name only. Production names DNS hosts only.
    static func constraints(_ hostNames: [String]) -> NameConstraints {
        let permitted: [GeneralName] = hostNames.filter { IPAddressBytes.parse($0) == nil }.map { .dnsName($0) }
        var excluded: [GeneralName] = []
        if !hostNames.contains(where: { IPAddressBytes.parse($0) != nil }) {
            excluded = [.ipAddress(ASN1OctetString(contentBytes: Array(repeating: 0, count: 8)[...])),
                        .ipAddress(ASN1OctetString(contentBytes: Array(repeating: 0, count: 32)[...]))]
        }
        var constraints = NameConstraints()
        constraints.permittedSubtrees = permitted
        constraints.excludedSubtrees = excluded
        return constraints
    }

    /// The host names among `hostNames` that `ca`'s constraints do not permit.
    static func outside(_ ca: Certificate, hostNames: [String]) -> [String] {
        guard let nameConstraints = try? ca.extensions.nameConstraints else { return hostNames }
        return hostNames.filter { host in
            if IPAddressBytes.parse(host) != nil {
                // An address is inside unless the CA excludes addresses (made for DNS names only).
                return !nameConstraints.excludedSubtrees.isEmpty
            }
            let lower = host.lowercased()
            return !nameConstraints.permittedDNSDomains.contains { domain in
                lower == domain.lowercased() || lower.hasSuffix("." + domain.lowercased())
            }
        }
    }
}
