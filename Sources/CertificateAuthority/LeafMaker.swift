import BizDirectCore
import Foundation
import SwiftASN1
import X509

/// Makes and renews the CA's own end-entity certificates: the OCSP responder (signed by the
/// issuing CA) and the TLS server (signed by the TLS CA). Each is one `IdentityFile`, so its key
/// and certificate are replaced together.
struct LeafMaker {
    let issuer: Certificate
    let signer: any Signer
    let bankName: String
    let now: Date

    /// 397 days, the longest lifetime browsers accept for a TLS server certificate.
    static let tlsLifetime: TimeInterval = 397 * 86_400

    /// Renew when less than this is left of `lifetime`: a third of it, at most 30 days.
    static func renewalMargin(_ lifetime: TimeInterval) -> TimeInterval { min(30 * 86_400, lifetime / 3) }

    /// Loads `name`'s certificate and key, making new ones when missing, near expiry, or (TLS)
    /// naming other hosts. A key that is present but damaged or mismatched stops start-up.
    /// With `tokenKey`, the key is the token's and only the certificate is renewed.
    func ensure(_ directory: URL, _ name: String, keyFile: KeyFile, hostNames: [String]?, lifetime: TimeInterval,
                tokenKey: (any Signer)? = nil) throws(BizDirectError) -> (Certificate, any Signer) {
        if IdentityFile.exists(directory, name) {
            let (certificate, key) = try IdentityFile.read(directory, name, keyFile: keyFile)
            let current: (any Signer)? = tokenKey.flatMap { $0.publicKey == certificate.publicKey ? $0 : nil } ?? key
            if let current, isCurrent(certificate, hostNames: hostNames, lifetime: lifetime) { return (certificate, current) }
        }
        return try renew(directory, name, keyFile: keyFile, hostNames: hostNames, lifetime: lifetime, tokenKey: tokenKey)
    }

    /// Makes a new certificate (and, for a software key, a new key) and writes both in one file.
    func renew(_ directory: URL, _ name: String, keyFile: KeyFile, hostNames: [String]?, lifetime: TimeInterval,
               tokenKey: (any Signer)?) throws(BizDirectError) -> (Certificate, any Signer) {
        let softwareKey = tokenKey == nil ? SoftwareSigner(generating: .p256) : nil
        guard let key: any Signer = tokenKey ?? softwareKey else { throw .internal("ca.keyMissing", "No key for \(name).") }
        let certificate = try make(name: name, key: key, hostNames: hostNames, lifetime: lifetime)
        try IdentityFile.write(certificate, key: softwareKey, directory, name, keyFile: keyFile)
        return (certificate, key)
    }

    private func isCurrent(_ certificate: Certificate, hostNames: [String]?, lifetime: TimeInterval) -> Bool {
        guard certificate.issuer == issuer.subject, issuer.publicKey.isValidSignature(certificate.signature, for: certificate),
              certificate.notValidAfter.timeIntervalSince(now) > Self.renewalMargin(lifetime),
              certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore) <= lifetime + 600 else { return false }
        guard let hostNames else { return true }
        let names = (try? certificate.extensions.subjectAlternativeNames) ?? nil
        return names.map { Set($0) == Set(Self.alternativeNames(hostNames)) } ?? false
    }

    private func make(name: String, key: any Signer, hostNames: [String]?, lifetime: TimeInterval) throws(BizDirectError) -> Certificate {
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
                notValidAfter: min(now.addingTimeInterval(lifetime), issuer.notValidAfter), issuer: issuer.subject,
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
