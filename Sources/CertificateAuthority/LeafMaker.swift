import BizDirectCore
import Foundation
import SwiftASN1
import X509

/// Makes and renews the CA's own end-entity certificates: the OCSP responder and the TLS server.
struct LeafMaker {
    let issuer: Certificate
    let signer: any Signer
    let bankName: String
    let now: Date

    /// Renew when less than this is left.
    static let renewalMargin: TimeInterval = 30 * 86_400
    /// 397 days, the longest lifetime browsers accept for a TLS server certificate.
    static let lifetime: TimeInterval = 397 * 86_400

    /// Loads `name`'s certificate and key, making new ones when missing, near expiry, or (TLS)
    /// naming other hosts. A key that is present but damaged or mismatched stops start-up.
    func ensure(_ directory: URL, _ name: String, keyFile: KeyFile, hostNames: [String]?) throws(BizDirectError) -> (Certificate, SoftwareSigner) {
        let keyURL = directory.appendingPathComponent("\(name).key.pem")
        if FileManager.default.fileExists(atPath: keyURL.path) {
            let (certificate, key) = try CAHierarchy.loadPair(directory, name, keyFile: keyFile)
            if isCurrent(certificate, hostNames: hostNames) { return (certificate, key) }
        }
        let key = SoftwareSigner(generating: .p256)
        let certificate = try make(name: name, key: key, hostNames: hostNames)
        try keyFile.writeKey(key.pkcs8DER, to: keyURL)
        do {
            try Data(CAHierarchy.pem(certificate).utf8).write(to: directory.appendingPathComponent("\(name).cert.pem"))
        } catch {
            throw .internal("ca.writeFailed", "Could not write \(name).cert.pem.")
        }
        return (certificate, key)
    }

    private func isCurrent(_ certificate: Certificate, hostNames: [String]?) -> Bool {
        guard certificate.issuer == issuer.subject, issuer.publicKey.isValidSignature(certificate.signature, for: certificate),
              certificate.notValidAfter.timeIntervalSince(now) > Self.renewalMargin else { return false }
        guard let hostNames else { return true }
        let names = (try? certificate.extensions.subjectAlternativeNames) ?? nil
        return names.map { Set($0) == Set(Self.alternativeNames(hostNames)) } ?? false
    }

    private func make(name: String, key: SoftwareSigner, hostNames: [String]?) throws(BizDirectError) -> Certificate {
        do {
            var extensions = Certificate.Extensions()
            try extensions.append(.init(BasicConstraints.notCertificateAuthority, critical: true))
            try extensions.append(.init(KeyUsage(digitalSignature: true), critical: true))
            try extensions.append(.init(SubjectKeyIdentifier(keyIdentifier: DERHelpers.keyIdentifier(key.publicKey)[...]), critical: false))
            try extensions.append(.init(AuthorityKeyIdentifier(keyIdentifier: DERHelpers.keyIdentifier(issuer.publicKey)[...]), critical: false))
            let commonName: String
            if let hostNames {
                commonName = hostNames.first ?? "localhost"
                try extensions.append(.init(ExtendedKeyUsage([.serverAuth]), critical: false))
                try extensions.append(.init(SubjectAlternativeNames(Self.alternativeNames(hostNames)), critical: false))
            } else {
                commonName = "BizDirect OCSP Responder"
                try extensions.append(.init(ExtendedKeyUsage([.ocspSigning]), critical: false))
                // id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): NULL value.
                try extensions.append(.init(oid: [1, 3, 6, 1, 5, 5, 7, 48, 1, 5], critical: false, value: [0x05, 0x00]))
            }
            return try Certificate(
                version: .v3, serialNumber: .init(bytes: CertificateIssuer.positiveSerial(SystemRandom().bytes(16))),
                publicKey: key.publicKey, notValidBefore: now.addingTimeInterval(-300),
                notValidAfter: now.addingTimeInterval(Self.lifetime), issuer: issuer.subject,
                subject: try DistinguishedName { CountryName("JP"); OrganizationName(bankName); CommonName(commonName) },
                signatureAlgorithm: signer.signatureAlgorithm, extensions: extensions,
                issuerPrivateKey: signer.certificatePrivateKey)
        } catch {
            throw .internal("ca.signFailed", "The \(name) certificate could not be made.")
        }
    }

    /// DNS names and IP addresses for subjectAltName.
    static func alternativeNames(_ hostNames: [String]) -> [GeneralName] {
        hostNames.map { host in
            if let ip = IPAddressBytes.parse(host) { return .ipAddress(ASN1OctetString(contentBytes: ip[...])) }
            return .dnsName(host)
        }
    }
}

/// Parses textual IPv4 and IPv6 addresses.
enum IPAddressBytes {
    /// The address bytes, or nil when `text` is not an IP address.
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
