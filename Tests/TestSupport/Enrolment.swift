import BizDirectCore
import Crypto
import Foundation
import RegistrationAuthority
import X509

/// A holder with a certificate and its key, ready to present over mutual TLS.
public struct Credential: Sendable {
    /// The holder's id.
    public let holderID: UUID
    /// The issued certificate, DER.
    public let certificateDER: [UInt8]
    /// Its serial (hex).
    public let serial: String
    /// Certificate, PEM.
    public var certificatePEM: String { CertificateFixtures.pem(certificateDER: certificateDER) }
    /// Private key, PKCS#8 PEM.
    public let keyPEM: String

    /// Makes a credential from its parts.
    public init(holderID: UUID, certificateDER: [UInt8], serial: String, keyPEM: String) {
        self.holderID = holderID
        self.certificateDER = certificateDER
        self.serial = serial
        self.keyPEM = keyPEM
    }
}

extension RegistrationAuthority {
    /// Adds a staff member with `pin` and issues them a certificate from a fresh P-256 key.
    public func enrolStaff(name: String = "Hanako Sato", role: Role = .clerk, pin: String = "abc123") async throws -> Credential {
        let member = try await staff.addStaff(name: name, role: role, pin: PIN(pin), actor: "test")
        return try await issueCredential(holderID: member.holderID)
    }

    /// Issues a certificate to an existing holder from a fresh P-256 key.
    public func issueCredential(holderID: UUID) async throws -> Credential {
        let key = P256.Signing.PrivateKey()
        let csr = try CertificateFixtures.csr(key: Certificate.PrivateKey(key))
        let issued = try await certificates.issue(IssueCertificateRequest(holderID: holderID, csr: csr, actor: "test"))
        return Credential(holderID: holderID, certificateDER: issued.der, serial: issued.serialHex, keyPEM: key.pemRepresentation)
    }
}

extension LiveServer {
    /// The root CA, PEM.
    public var rootPEM: String { ra.tlsMaterial.rootCAPEM }

    /// A browser presenting `credential` (or no certificate).
    public func browser(_ credential: Credential? = nil) throws -> TestBrowser {
        try TestBrowser(rootPEM: rootPEM, certificatePEM: credential?.certificatePEM, keyPEM: credential?.keyPEM)
    }
}
