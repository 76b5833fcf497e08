import BizDirectCore
import CertificateAuthority
import Foundation
import Policy
import Storage

/// Acquire a certificate in the browser: the key is made there, only the PKCS#10 request comes here.
public struct AcquireCertificateRequest: Sendable {
    /// Who is acquiring, and the identifiers they typed.
    public enum Holder: Sendable {
        /// Contract ID, and the card answers for the pending challenge.
        case administrator(contractID: String, cardAnswers: [String: String])
        /// Contract ID and user ID.
        case user(contractID: String, userID: String)
        /// The one-time code, both halves (one from each of two supervisors).
        case staff(code: String)
    }
    /// Who.
    public let holder: Holder
    /// Contract PIN or user PIN; for staff, the new PIN they choose here.
    public let pin: PIN
    /// Contract or user confirmation PIN; for staff, the new PIN typed again.
    public let confirmationPIN: PIN?
    /// The PKCS#10 request made in the browser.
    public let csr: [UInt8]
    /// The client's address.
    public let clientAddress: String

    /// Makes a request.
    public init(holder: Holder, pin: PIN, confirmationPIN: PIN?, csr: [UInt8], clientAddress: String) {
        self.holder = holder
        self.pin = pin
        self.confirmationPIN = confirmationPIN
        self.csr = csr
        self.clientAddress = clientAddress
    }
}

/// What the browser needs to build the PKCS#12: the certificate and its chain.
public struct AcquiredCertificate: Sendable {
    /// The new certificate, DER.
    public let certificate: [UInt8]
    /// Issuing CA then root, DER.
    public let chain: [[UInt8]]
    /// Serial (hex).
    public let serial: String
    /// Expiry.
    public let notAfter: Date
    /// A name for the PKCS#12 entry.
    public let friendlyName: String
}

/// Checks everything in one step and issues: identifiers, PINs and card, an open acquisition
/// window (one acquisition per window), then the certificate.
///
/// Acquisition is anonymous (no certificate yet), so it must not be a way to lock anyone out or
/// to learn anything: wrong attempts count against the acquisition window, never against the
/// holder's logon counter; nothing is counted when no window is open; and an unknown ID, a
/// locked holder, a closed window and wrong secrets get the same answer after the same work
/// (the same number of PIN hashes). At the limit the window closes, and the page says so and
/// what to do. Per-account limits (per contract ID and per user ID, across every server process)
/// slow an attacker spread over many addresses.
public struct AcquisitionService: Sendable {
    let store: Store
    let logon: LogonService
    let cards: CardService
    let certificates: CertificateService
    let hasher: PINHasher
    let chain: [[UInt8]]
    let clock: any WallClock
    /// Wrong attempts allowed per acquisition window (the logon lockout limit).
    let failureLimit: Int
    /// Attempts per contract ID, and per user ID, per minute.
    let perAccountPerMinute: Int

    /// The one answer for an unknown ID, a locked holder, a closed window and wrong secrets.
    static func refused() -> BizDirectError {
        .unauthenticated("acquisition.refused", "The IDs or PINs are not correct, or no certificate can be acquired now.")
    }

    /// Acquires a certificate for the holder the request names.
    public func acquire(_ request: AcquireCertificateRequest) async throws -> AcquiredCertificate {
        let checked = try CSRCheck.check(request.csr)
        if case .staff(let code) = request.holder { return try await acquireStaff(code: code, checked, request) }
        let (holder, target) = try await find(request)
        try await limitPerAccount(request)
        let now = clock.now()
        // Count before checking, and only against an open window of an unlocked holder.
        var counted: Int?
        if let holder, try await !logon.isLocked(holder) {
            counted = try await store.raiseAcquisitionFailures(holderID: try holder.requireID(), limit: failureLimit, at: now)
        }
        let secretsRight = try await secretsMatch(holder, request)
        guard let holder, counted != nil, secretsRight else {
            try await refuse(holder, target: target, count: counted, request: request, at: now)
        }
        let holderID = try holder.requireID()
        try await store.clearAcquisitionFailures(holderID: holderID)
        let issued = try await certificates.issueClosingWindow(checked, holderID: holderID, actor: "acquisition:\(target)",
                                                               clientAddress: request.clientAddress)
        if case .administrator = request.holder { try await cards.consumeChallenge(contractID: holder.scope) }
        return AcquiredCertificate(certificate: issued.der, chain: chain, serial: issued.serialHex, notAfter: issued.notAfter,
                                   friendlyName: friendlyName(holder))
    }

    /// Audits a refusal that concerns a known holder (an unknown ID names nobody: not audited),
    /// closes the window at the limit, and throws the answer.
    private func refuse(_ holder: HolderModel?, target: String, count: Int?, request: AcquireCertificateRequest, at now: Date) async throws -> Never {
        guard let holder else { throw Self.refused() }
        let why = count == nil ? (holder.acquisitionOpenUntil.map { $0 > now } == true ? "locked" : "window.closed") : "secrets.wrong"
        try await store.appendAudit(AuditEvent(actor: "anonymous", action: "acquisition", target: target, outcome: .denied(why),
                                               clientAddress: request.clientAddress), at: now)
        if let count, count >= failureLimit {
            try await store.transaction { tx in
                try await tx.closeAcquisitionWindowAfterFailures(holderID: try holder.requireID())
                try await tx.appendAudit(AuditEvent(actor: "system", action: "acquisition.windowClosed", target: target, outcome: .allowed,
                                                    clientAddress: request.clientAddress), at: now)
            }
            throw BizDirectError.forbidden("acquisition.tooManyFailures", "Too many wrong attempts: this acquisition has been closed.")
        }
        throw Self.refused()
    }

    /// Per contract ID and per user ID, whether or not they exist (so the limit reveals nothing).
    private func limitPerAccount(_ request: AcquireCertificateRequest) async throws {
        var buckets: [String] = []
        switch request.holder {
        case .administrator(let contractID, _): buckets = ["acquire:contract:\(try ContractID(parsing: contractID).digits)"]
        case .user(let contractID, let userID):
            let contract = try ContractID(parsing: contractID).digits
            buckets = ["acquire:contract:\(contract)", "acquire:user:\(contract)/\(try UserID(parsing: userID).value)"]
        case .staff: buckets = []
        }
        let now = clock.now()
        for bucket in buckets where try await store.countAttempt(bucket: bucket, window: 60, at: now) > perAccountPerMinute {
            throw BizDirectError.locked("request.tooManyForAccount", "Too many attempts for this ID. Wait a minute and try again.")
        }
    }

    private func find(_ request: AcquireCertificateRequest) async throws -> (HolderModel?, String) {
        switch request.holder {
        case .administrator(let text, _):
            let contractID = try ContractID(parsing: text).digits
            return (try await store.holder(scope: contractID, loginID: "admin"), "admin:\(contractID)")
        case .user(let text, let userText):
            let contractID = try ContractID(parsing: text).digits
            let userID = try UserID(parsing: userText).value
            return (try await store.holder(scope: contractID, loginID: userID), "user:\(contractID)/\(userID)")
        case .staff:
            return (nil, "staff")
        }
    }

    /// Every secret the holder's kind requires, all checked, for an unknown holder against
    /// dummies: no early exit that would time differently. The card challenge is not consumed
    /// here, so a right card with wrong PINs tells nothing.
    private func secretsMatch(_ holder: HolderModel?, _ request: AcquireCertificateRequest) async throws -> Bool {
        var ok = try await hasher.verify(request.pin, against: holder?.pinHash, anonymous: true)
        ok = try await hasher.verify(request.confirmationPIN ?? PIN(""), against: holder?.confirmationPINHash, anonymous: true) && ok
        if case .administrator(let contractID, let answers) = request.holder {
            ok = try await cards.check(contractID: try ContractID(parsing: contractID).digits, answers: answers, consume: false) && ok
        }
        return ok && holder != nil
    }

    /// A staff member acquires with the two halves of their one-time code and chooses their PIN
    /// here: nobody else ever typed or saw it, so it is not changed at the first logon. The PIN
    /// is hashed before the code is looked up, so a wrong code takes the same work as a right one.
    private func acquireStaff(code: String, _ checked: CheckedRequest, _ request: AcquireCertificateRequest) async throws -> AcquiredCertificate {
        if case .deny(let reason) = PINPolicy.checkFormat(request.pin) {
            throw BizDirectError.malformed(reason, "A PIN has 6 to 12 letters and digits, with at least one of each.")
        }
        guard ConstantTime.equal(Array(request.pin.secret.utf8), Array((request.confirmationPIN?.secret ?? "").utf8)) else {
            throw BizDirectError.malformed("pin.repeatDiffers", "The new PIN and its repetition differ. Type the same PIN twice.")
        }
        let pinHash = try await hasher.hash(request.pin, anonymous: true)
        let now = clock.now()
        var holder: HolderModel?
        if let codeHash = AcquisitionCode.hash(typed: code, hasher: hasher) { holder = try await store.holder(acquisitionCodeHash: codeHash) }
        guard let holder, holder.deletedAt == nil, holder.lockedAt == nil, let until = holder.acquisitionOpenUntil, until > now else {
            // A code that names nobody is not audited (anyone can send those); a known one is.
            if let holder {
                try await store.appendAudit(AuditEvent(actor: "anonymous", action: "acquisition", target: "staff:\(holder.loginID)",
                                                       outcome: .denied(holder.lockedAt != nil ? "locked" : "window.closed"),
                                                       clientAddress: request.clientAddress), at: now)
            }
            throw Self.refused()
        }
        let issued = try await certificates.issueClosingWindow(checked, holderID: try holder.requireID(), actor: "acquisition:staff:\(holder.loginID)",
                                                               clientAddress: request.clientAddress, pinHash: pinHash)
        return AcquiredCertificate(certificate: issued.der, chain: chain, serial: issued.serialHex, notAfter: issued.notAfter,
                                   friendlyName: friendlyName(holder))
    }

    private func friendlyName(_ holder: HolderModel) -> String {
        switch Role(rawValue: holder.role) {
        case .administrator: "BizDirect \(holder.scope) administrator"
        case .user: "BizDirect \(holder.scope) \(holder.loginID)"
        default: "BizDirect \(holder.loginID) \(holder.name)"
        }
    }
}
