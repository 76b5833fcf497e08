import BizDirectCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// Signs end-entity client certificates with the issuing CA. Knows nothing of users: the
/// registration authority supplies the subject.
public struct CertificateIssuer: Sendable {
    /// The issuing CA certificate.
    public let issuerCertificate: Certificate
    let signer: any Signer
    let profile: IssuanceProfile
    let random: any RandomSource
    private let authorityKeyIdentifier: Certificate.Extension
    private let publicationExtensions: [Certificate.Extension]

    /// Makes an issuer that signs with `signer` under `issuerCertificate`.
    public init(issuerCertificate: Certificate, signer: any Signer, profile: IssuanceProfile, random: any RandomSource) throws {
        self.issuerCertificate = issuerCertificate
        self.signer = signer
        self.profile = profile
        self.random = random
        authorityKeyIdentifier = try Certificate.Extension(
            AuthorityKeyIdentifier(keyIdentifier: DERHelpers.keyIdentifier(signer.publicKey)[...]), critical: false)
        publicationExtensions = [
            try Self.crlDistributionPoint(profile.crlURL),
            try Certificate.Extension(AuthorityInformationAccess([
                .init(method: .ocspServer, location: .uniformResourceIdentifier(profile.ocspURL)),
                .init(method: .issuingCA, location: .uniformResourceIdentifier(profile.caIssuersURL)),
            ]), critical: false),
        ]
    }

    /// Issues a TLS client certificate for `request`'s key, named `subject`, valid for `lifetime`
    /// (the profile's client-certificate lifetime, one year, when nil).
    public func issue(_ request: CheckedRequest, subject: SubjectName, now: Date, lifetime: TimeInterval? = nil) throws(BizDirectError) -> IssuedCertificate {
        let serial = Self.positiveSerial(random.bytes(16))
        let notBefore = now.addingTimeInterval(-profile.validity.backdate)
        let notAfter = now.addingTimeInterval(lifetime ?? profile.validity.clientCertificate)
        do {
            var extensions = Certificate.Extensions()
            try extensions.append(Certificate.Extension(BasicConstraints.notCertificateAuthority, critical: true))
            try extensions.append(Certificate.Extension(KeyUsage(digitalSignature: true), critical: true))
            try extensions.append(Certificate.Extension(ExtendedKeyUsage([.clientAuth]), critical: false))
            try extensions.append(Certificate.Extension(
                SubjectKeyIdentifier(keyIdentifier: DERHelpers.keyIdentifier(request.publicKey)[...]), critical: false))
            try extensions.append(authorityKeyIdentifier)
            for ext in publicationExtensions { try extensions.append(ext) }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(bytes: serial), publicKey: request.publicKey,
                notValidBefore: notBefore, notValidAfter: notAfter, issuer: issuerCertificate.subject,
                subject: try Self.distinguishedName(subject, bankName: profile.bankName),
                signatureAlgorithm: signer.signatureAlgorithm, extensions: extensions,
                issuerPrivateKey: signer.certificatePrivateKey)
            return IssuedCertificate(
                der: try DERHelpers.encode { try $0.serialize(certificate) }, serialHex: SerialText.hex(serial),
                notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter, spkiHash: request.spkiHash)
        } catch let error as BizDirectError {
            throw error
        } catch {
            throw .internal("ca.signFailed", "The certificate could not be signed.")
        }
    }

    /// 128 random bits made positive and non-zero-leading (RFC 5280 §4.1.2.2).
    static func positiveSerial(_ bytes: [UInt8]) -> [UInt8] {
        var serial = bytes
        serial[0] = (serial[0] & 0x7f) | 0x40
        return serial
    }

    /// C=JP, O=bank, OU=role, CN=name.
    static func distinguishedName(_ subject: SubjectName, bankName: String) throws -> DistinguishedName {
        try DistinguishedName {
            CountryName("JP")
            OrganizationName(bankName)
            if let unit = subject.organizationalUnit { OrganizationalUnitName(unit) }
            CommonName(subject.commonName)
        }
    }

    /// cRLDistributionPoints with one fullName URI (swift-certificates has no type for it).
    static func crlDistributionPoint(_ url: String) throws -> Certificate.Extension {
        let value = try DERHelpers.encode { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in      // CRLDistributionPoints
                try coder.appendConstructedNode(identifier: .sequence) { coder in  // DistributionPoint
                    try coder.appendConstructedNode(identifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                        try coder.appendConstructedNode(identifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                            coder.appendPrimitiveNode(identifier: .init(tagWithNumber: 6, tagClass: .contextSpecific)) {
                                $0.append(contentsOf: Array(url.utf8))
                            }
                        }
                    }
                }
            }
        }
        return Certificate.Extension(oid: [2, 5, 29, 31], critical: false, value: value[...])
    }
}
