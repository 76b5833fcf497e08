import BizDirectCore
import CertificateAuthority
import Foundation
import Policy
import Storage

extension LogonService {
    /// The card step of administrator logon: answers for the pending challenge, counted like a PIN.
    public func verifyCard(holderID: UUID, answers: [String: String], cards: CardService, clientAddress: String,
                           certificateSerial: String) async throws {
        guard let holder = try await store.holder(id: holderID), Role(rawValue: holder.role) == .administrator else {
            try await store.refuse("card.administratorOnly", "Only administrators answer the card challenge.", actor: "anonymous",
                             action: "logon.card", target: holderID.uuidString, clientAddress: clientAddress, certificateSerial: certificateSerial, at: clock.now())
        }
        try await attempt(holder, action: "logon.card", clientAddress: clientAddress, certificateSerial: certificateSerial) {
            try await cards.check(contractID: holder.scope, answers: answers)
        }
    }

    /// Browsers do not offer an expired client certificate, so a browser whose last logon used a
    /// certificate that has since expired or been revoked presents none. The logon page then uses
    /// the fingerprint it remembered (a cookie, not a secret) to say what happened, instead of
    /// "no certificate". Returns nil when the remembered certificate is unknown or still valid.
    public func rememberedProblem(fingerprint: String) async throws -> CertificateCheck? {
        guard fingerprint.count == 64, fingerprint.allSatisfy(\.isHexDigit),
              let row = try await store.certificate(fingerprint: fingerprint) else { return nil }
        let check = CertificateCheck.classify(notBefore: row.notBefore, notAfter: row.notAfter, revokedAt: row.revokedAt, now: clock.now())
        return check == .valid ? nil : check
    }

    /// A holder as pages may show them, by id.
    public func holderSummary(id: UUID) async throws -> HolderSummary? {
        guard let holder = try await store.holder(id: id) else { return nil }
        return try await summary(holder)
    }

    /// Whether the holder must set new PINs before going on (first logon, or PINs set by someone else).
    public func mustChangePINs(holderID: UUID) async throws -> Bool {
        try await store.holder(id: holderID)?.mustChangePIN ?? false
    }

    /// Sets a holder's PIN and confirmation PIN (both checked by PINPolicy). When `current` is
    /// given it must be right (counted like any PIN); the forced change after logon passes nil.
    /// Every other session of the holder ends; the one with `keepingSession` (the caller's) stays.
    public func changePINs(holderID: UUID, current: PIN?, pin: PIN, confirmation: PIN, clientAddress: String,
                           certificateSerial: String, keepingSession: String?) async throws {
        guard let holder = try await store.holder(id: holderID) else { throw BizDirectError.notFound("holder.unknown", "Unknown holder.") }
        let staff = Role(rawValue: holder.role)?.isStaff ?? false
        let decision = staff ? PINPolicy.checkFormat(pin) : PINPolicy.checkPair(pin: pin, confirmation: confirmation)
        if case .deny(let reason) = decision {
            throw BizDirectError.malformed(reason, "A PIN has 6 to 12 letters and digits, with at least one of each; the two PINs must differ.")
        }
        if let current {
            try await attempt(holder, action: "pin.change.verify", clientAddress: clientAddress, certificateSerial: certificateSerial) {
                try await hasher.verify(current, against: holder.pinHash)
            }
        }
        let pinHash = try await hasher.hash(pin)
        let confirmationHash = staff ? holder.confirmationPINHash : try await hasher.hash(confirmation)
        let now = clock.now()
        let actor = holder.auditName
        try await store.transaction { tx in
            guard let fresh = try await tx.holder(id: holderID) else { return }
            fresh.pinHash = pinHash
            fresh.confirmationPINHash = confirmationHash
            fresh.mustChangePIN = false
            try await tx.update(fresh)
            try await tx.endSessions(holderIDs: [holderID], reason: "session.pinChanged",
                                     keeping: keepingSession.map { Store.sha256Hex(Array($0.utf8)) })
            try await tx.appendAudit(AuditEvent(actor: actor, action: "pin.change", target: holder.loginID, outcome: .allowed,
                                                clientAddress: clientAddress, certificateSerial: certificateSerial), at: now)
        }
    }

    /// After the first successful logon with a renewed certificate, the holder's older
    /// certificates are revoked as superseded. Returns the serials revoked.
    public func supersedeOlderCertificates(holderID: UUID, presentedSerial: String, certificates: CertificateService) async throws -> [String] {
        let all = try await store.certificates(holderID: holderID)
        guard let presented = all.first(where: { $0.serial == presentedSerial }) else { return [] }
        let older = all.filter { $0.status == "active" && $0.serial != presentedSerial && $0.notBefore < presented.notBefore }
        for certificate in older {
            try await certificates.revoke(serial: certificate.serial, reason: .superseded, actor: "system:renewal")
        }
        return older.map(\.serial)
    }

    /// Days before expiry from which renewal is offered.
    public static let renewalWindow: TimeInterval = 40 * 86_400

    /// Whether a certificate expiring at `notAfter` may be renewed now (from 40 days before, until expiry).
    public func renewalOpen(notAfter: Date) -> Bool {
        let left = notAfter.timeIntervalSince(clock.now())
        return left > 0 && left <= Self.renewalWindow
    }

    /// Renews the presented, still valid certificate: PIN again, a new key from the browser.
    /// The old certificate stays valid until the new one is first used to log on.
    public func renew(holderID: UUID, presentedSerial: String, pin: PIN, csr: [UInt8], certificates: CertificateService,
                      clientAddress: String) async throws -> IssuedCertificate {
        guard let holder = try await store.holder(id: holderID), let current = try await store.certificate(serial: presentedSerial),
              current.holderID == holderID else {
            try await store.refuse("renewal.notYours", "Renew with your own current certificate.", actor: "anonymous", action: "renewal",
                             target: presentedSerial, clientAddress: clientAddress, certificateSerial: presentedSerial, at: clock.now())
        }
        guard current.revokedAt == nil, renewalOpen(notAfter: current.notAfter) else {
            try await store.refuse(current.notAfter < clock.now() ? "renewal.expired" : "renewal.notYet",
                             "Renewal is possible from 40 days before expiry until the certificate expires.",
                             actor: holder.auditName, action: "renewal", target: presentedSerial,
                             clientAddress: clientAddress, certificateSerial: presentedSerial, at: clock.now())
        }
        try await attempt(holder, action: "renewal.pin", clientAddress: clientAddress, certificateSerial: presentedSerial) {
            try await hasher.verify(pin, against: holder.pinHash)
        }
        return try await certificates.issue(IssueCertificateRequest(holderID: holderID, csr: csr, actor: holder.auditName,
                                                                    clientAddress: clientAddress))
    }
}
