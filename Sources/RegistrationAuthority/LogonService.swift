import BizDirectCore
import Crypto
import Foundation
import Logging
import Policy
import Storage
import X509

/// Who a presented certificate names, and whether it may be used.
public struct PresentedCertificate: Sendable {
    /// What the certificate means.
    public let check: CertificateCheck
    /// Hex SHA-256 of its DER (sessions are bound to it); nil when none was presented.
    public let fingerprint: String?
    /// Its serial, when it is ours.
    public let serial: String?
    /// Its holder, when it is ours and on record.
    public let holder: HolderSummary?
    /// Its expiry, when on record.
    public let notAfter: Date?
}

/// What the web pages may show of a holder: no secret, no hash.
public struct HolderSummary: Sendable {
    /// How the audit chain names this holder.
    public var auditName: String { LogonService.actor(role: role, scope: scope, loginID: loginID) }

    /// The holder's id.
    public let id: UUID
    /// Their role.
    public let role: Role
    /// Contract ID (customers) or "bank" (staff).
    public let scope: String
    /// User ID, staff ID, or "admin".
    public let loginID: String
    /// Display name.
    public let name: String
    /// True when the holder (or, for customers, their contract) is locked.
    public let locked: Bool
}

/// The certificate and PIN steps of logon, with lockout. Every decision is audited.
public struct LogonService: Sendable {
    let store: Store
    let issuingCA: Certificate
    let hasher: PINHasher
    let lockoutLimit: Int
    let clock: any WallClock
    let logger: Logger
    /// Logon starts (PIN steps) allowed per holder per minute, counted in the database (every
    /// process shares it). Wrong answers are bounded by the lock itself.
    let perAccountPerMinute: Int

    /// Counts a logon start for `holderID`; past the limit the caller is told to wait.
    func limitLogonStarts(holderID: UUID) async throws {
        guard try await store.countAttempt(bucket: "logon:\(holderID.uuidString)", window: 60, at: clock.now()) <= perAccountPerMinute else {
            logger.notice("per-account rate limit", metadata: ["step": "pin"])
            throw BizDirectError.locked("request.tooManyForAccount", "Too many attempts for this ID. Wait a minute and try again.")
        }
    }

    /// Classifies the client certificate presented on the logon site (DER, or nil for none).
    public func examine(certificateDER: [UInt8]?, clientAddress: String) async throws -> PresentedCertificate {
        try await audited(try await classify(certificateDER), clientAddress)
    }

    /// What a presented certificate is and whom it names, without deciding anything (so without
    /// an audit event): for naming the actor of a refusal made elsewhere.
    public func classify(_ certificateDER: [UInt8]?) async throws -> PresentedCertificate {
        guard let der = certificateDER else {
            return PresentedCertificate(check: .none, fingerprint: nil, serial: nil, holder: nil, notAfter: nil)
        }
        let fingerprint = Store.sha256Hex(der)
        guard let certificate = try? Certificate(derEncoded: der), certificate.issuer == issuingCA.subject,
              issuingCA.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            return PresentedCertificate(check: .foreign, fingerprint: fingerprint, serial: nil, holder: nil, notAfter: nil)
        }
        guard let row = try await store.presentedRecord(fingerprint: fingerprint) else {
            return PresentedCertificate(check: .unknown, fingerprint: fingerprint, serial: nil, holder: nil, notAfter: nil)
        }
        let check = CertificateCheck.classify(notBefore: row.notBefore, notAfter: row.notAfter, revokedAt: row.revokedAt, now: clock.now())
        let role = Role(rawValue: row.role) ?? .user
        let locked = Self.locked(role: role, holderLockedAt: row.holderLockedAt, contractLockedAt: row.contractLockedAt)
        let holder = HolderSummary(id: row.holderID, role: role, scope: row.scope, loginID: row.loginID, name: row.name, locked: locked)
        return PresentedCertificate(check: check, fingerprint: fingerprint, serial: row.serial, holder: holder, notAfter: row.notAfter)
    }

    /// A certificate that names a holder is a decision about that person and is audited. No
    /// certificate, a foreign one or an unknown one names nobody: anyone can send those in any
    /// number, so they go to the log (and its counters) instead of the audit chain.
    private func audited(_ presented: PresentedCertificate, _ clientAddress: String) async throws -> PresentedCertificate {
        guard presented.holder != nil else {
            logger.info("logon certificate names no holder", metadata: ["check": "\(presented.check.label)", "client": "\(clientAddress)"])
            return presented
        }
        let outcome: AuditEvent.Outcome = presented.check == .valid ? .allowed : .denied("certificate.\(presented.check.label)")
        try await store.appendAudit(AuditEvent(actor: presented.holder.map(\.auditName) ?? "anonymous", action: "logon.certificate",
                                               target: presented.serial ?? "-", outcome: outcome, clientAddress: clientAddress,
                                               certificateSerial: presented.serial ?? "-"), at: clock.now())
        return presented
    }

    /// Checks a holder's PIN. The failure is counted before the check, atomically; at the limit
    /// the holder (and an administrator's whole contract) is locked.
    public func verifyPIN(holderID: UUID, pin: PIN, clientAddress: String, certificateSerial: String) async throws {
        guard let holder = try await store.holder(id: holderID) else {
            throw BizDirectError.unauthenticated("pin.wrong", "The PIN is not correct.")
        }
        try await attempt(holder, action: "logon.pin", clientAddress: clientAddress, certificateSerial: certificateSerial) {
            try await hasher.verify(pin, against: holder.pinHash)
        }
    }

    /// One attempt at a holder's secrets: the failure is counted first (atomically), `check`
    /// runs, failure at the limit locks. Success does not clear the counter: only a completed
    /// logon (`LogonFlow`) or an explicit unlock does, so a right PIN cannot buy more card
    /// guesses. Every outcome is audited.
    func attempt(_ holder: HolderModel, action: String, clientAddress: String, certificateSerial: String,
                 check: () async throws -> Bool) async throws {
        let now = clock.now()
        let holderID = try holder.requireID()
        let actor = holder.auditName
        func audit(_ outcome: AuditEvent.Outcome) async throws {
            try await store.appendAudit(AuditEvent(actor: actor, action: action, target: holder.loginID, outcome: outcome,
                                                   clientAddress: clientAddress, certificateSerial: certificateSerial), at: now)
        }
        guard try await !isLocked(holder), let count = try await store.raiseFailureCount(holderID: holderID, limit: lockoutLimit) else {
            try await audit(.denied("locked"))
            throw BizDirectError.locked("service.locked", "The service is locked after too many wrong PINs.")
        }
        if try await check() {
            // The attempt was counted before the check; a right answer gives it back, so the
            // counter holds only wrong answers since the last completed logon.
            try await store.lowerFailureCount(holderID: holderID)
            try await audit(.allowed)
            return
        }
        try await audit(.denied("pin.wrong"))
        if LockoutPolicy.isLocked(failures: count, limit: lockoutLimit) {
            try await store.transaction { tx in
                try await tx.lock(holder: holder, at: now)
                try await tx.appendAudit(AuditEvent(actor: actor, action: "holder.lock", target: holder.loginID, outcome: .allowed,
                                                    clientAddress: clientAddress, certificateSerial: certificateSerial), at: now)
            }
            throw BizDirectError.locked("service.locked", "The service is locked after too many wrong PINs.")
        }
        throw BizDirectError.unauthenticated("pin.wrong", "The PIN is not correct.")
    }

    func isLocked(_ holder: HolderModel) async throws -> Bool {
        let role = Role(rawValue: holder.role) ?? .user
        // The contract is read only when its lock can decide.
        let contractLockedAt = holder.lockedAt == nil && role == .user ? try await store.contract(holder.scope)?.lockedAt : nil
        return Self.locked(role: role, holderLockedAt: holder.lockedAt, contractLockedAt: contractLockedAt)
    }

    /// A holder is locked by their own lock, or, for a user, by the contract's (an administrator's
    /// lock locks every user of the contract).
    static func locked(role: Role, holderLockedAt: Date?, contractLockedAt: Date?) -> Bool {
        holderLockedAt != nil || (role == .user && contractLockedAt != nil)
    }

    /// A holder as pages may show them.
    public func summary(_ holder: HolderModel) async throws -> HolderSummary {
        HolderSummary(id: try holder.requireID(), role: Role(rawValue: holder.role) ?? .user, scope: holder.scope,
                      loginID: holder.loginID, name: holder.name, locked: try await isLocked(holder))
    }

    /// The audit actor name: "admin:CONTRACT", "user:CONTRACT/USER" or "staff:ID".
    static func actor(role: Role, scope: String, loginID: String) -> String {
        switch role {
        case .administrator: "admin:\(scope)"
        case .user: "user:\(scope)/\(loginID)"
        case .clerk, .supervisor: "staff:\(loginID)"
        }
    }
}

extension HolderModel {
    /// How the audit chain names this holder (no database work: the role, scope and ID are on the row).
    var auditName: String { LogonService.actor(role: Role(rawValue: role) ?? .user, scope: scope, loginID: loginID) }
}

extension CertificateCheck {
    /// A short label for logs and audit.
    public var label: String {
        switch self {
        case .none: "none"
        case .foreign: "foreign"
        case .unknown: "unknown"
        case .expired: "expired"
        case .revoked: "revoked"
        case .notYetValid: "notYetValid"
        case .valid: "valid"
        }
    }
}
