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

/// The PIN the two founding supervisors of a test branch choose.
public let founderPIN = "found3r1"

extension RegistrationAuthority {
    /// Adds a staff member the way the bank does, under dual control: one founding supervisor
    /// records the request (and gets the first half of the code), the other approves it with
    /// their PIN (and gets the second half), and the new member acquires with both halves,
    /// choosing `pin`. The founders themselves are bootstrapped once, as `bizdirect staff add`
    /// does, and acquire the same way.
    public func enrolStaff(name: String = "Hanako Sato", role: Role = .clerk, pin: String = "abc123") async throws -> Credential {
        let (recorder, approver) = try await founders()
        let recorded = try await branch.recordStaffRequest(.add(name: name, role: role), by: recorder)
        guard case .codeHalf(_, let second) = try await branch.decide(DecideBranchRequest(requestID: recorded.requestID, approve: true,
                                                                                          pin: PIN(founderPIN)), by: approver),
              let first = recorded.codeHalf else {
            throw BizDirectError.internal("test.noCode", "A staff add gave no code halves.")
        }
        return try await acquireCredential(.staff(code: "\(first)-\(second)"), pin: pin, confirmationPIN: pin)
    }

    /// The two founding supervisors of this branch (bootstrapped on first use), as actors.
    public func founders() async throws -> (StaffActor, StaffActor) {
        var founders = try await store.holders(scope: "bank").filter { $0.name.hasPrefix("Founder ") && $0.deletedAt == nil }
        while founders.count < 2 {
            let member = try await staff.bootstrap(name: "Founder \(founders.count + 1)", role: .supervisor, pin: nil, csr: nil, actor: "test")
            _ = try await acquireCredential(.staff(code: member.acquisitionCode ?? ""), pin: founderPIN, confirmationPIN: founderPIN)
            founders = try await store.holders(scope: "bank").filter { $0.name.hasPrefix("Founder ") && $0.deletedAt == nil }
        }
        func actor(_ holder: HolderModelView) throws -> StaffActor {
            StaffActor(holderID: holder.id, staffID: holder.loginID, role: .supervisor, clientAddress: "127.0.0.1", certificateSerial: "-")
        }
        let views = try founders.prefix(2).map { HolderModelView(id: try $0.requireID(), loginID: $0.loginID) }
        return (try actor(views[0]), try actor(views[1]))
    }

    /// The staff member with `staffID` as an actor (as the console identifies them).
    public func staffActor(_ staffID: String) async throws -> StaffActor {
        guard let holder = try await store.holder(scope: "bank", loginID: staffID), let role = Role(rawValue: holder.role) else {
            throw BizDirectError.notFound("staff.unknown", "No staff member has this ID.")
        }
        return StaffActor(holderID: try holder.requireID(), staffID: staffID, role: role, clientAddress: "127.0.0.1", certificateSerial: "-")
    }

    /// The staff ID of the holder a credential belongs to.
    public func staffID(of credential: Credential) async throws -> String {
        try await store.holder(id: credential.holderID)?.loginID ?? ""
    }

    /// Issues a certificate to an existing holder from a fresh P-256 key.
    public func issueCredential(holderID: UUID) async throws -> Credential {
        let key = P256.Signing.PrivateKey()
        let csr = try CertificateFixtures.csr(key: Certificate.PrivateKey(key))
        let issued = try await certificates.issue(IssueCertificateRequest(holderID: holderID, csr: csr, actor: "test"))
        return Credential(holderID: holderID, certificateDER: issued.der, serial: issued.serialHex, keyPEM: key.pemRepresentation)
    }
}

/// The two fields of a founder the helpers need.
struct HolderModelView {
    let id: UUID
    let loginID: String
}

extension LiveServer {
    /// The client-certificate root CA, PEM.
    public var rootPEM: String { ra.tlsMaterial.rootCAPEM }

    /// The TLS CA the server's certificate chains to: what a customer's browser trusts.
    public var tlsCAPEM: String { ra.tlsMaterial.tlsCAPEM ?? "" }

    /// A browser trusting the TLS CA (never the client root), presenting `credential` (or no certificate).
    public func browser(_ credential: Credential? = nil) throws -> TestBrowser {
        try TestBrowser(rootPEM: tlsCAPEM, certificatePEM: credential?.certificatePEM, keyPEM: credential?.keyPEM)
    }
}
