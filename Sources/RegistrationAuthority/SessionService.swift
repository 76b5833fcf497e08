import BizDirectCore
import Foundation
import Logging
import Policy
import Storage

/// A live session, as the web front end sees it. The token itself is never stored.
public struct SessionState: Sendable {
    /// The bearer token for the cookie (only ever returned at creation and rotation).
    public let token: String
    /// The token for forms that change state.
    public let csrfToken: String
    /// Whose session it is (nil before the certificate named anyone).
    public let holderID: UUID?
    /// How far the logon has got.
    public let stage: LogonStage
    /// SHA-256 (hex) of the certificate the session is bound to (public information).
    public let certificateFingerprint: String
}

/// Database-backed sessions: 256-bit ids stored as SHA-256, bound to the client certificate,
/// with idle and absolute timeouts and a new id at every step up in privilege.
public struct SessionService: Sendable {
    let store: Store
    let clock: any WallClock
    let random: any RandomSource
    let absoluteTimeout: TimeInterval
    /// Secret-checking requests allowed per client address per minute.
    let attemptsPerAddressPerMinute: Int
    let logger: Logger

    /// Counts one secret-checking request (PIN, card, acquisition code) from `clientAddress`, in
    /// the database, so that every instance behind the load balancer shares one count per address
    /// (a fixed one-minute window, `Store.countAttempt`). False past the limit: the caller refuses
    /// before any secret is looked at. It slows guessing across many IDs from one address, on top
    /// of each person's lock.
    public func admitSecretAttempt(from clientAddress: String) async throws -> Bool {
        try await store.countAttempt(bucket: "address:\(clientAddress)", window: 60, at: clock.now()) <= attemptsPerAddressPerMinute
    }

    /// Starts a session for `holderID`, bound to the certificate with `fingerprint`. Only the
    /// logon flow starts sessions, once the PIN was right.
    func start(holderID: UUID, certificateFingerprint: String, stage: LogonStage, idleTimeout: TimeInterval) async throws -> SessionState {
        let token = newToken(), csrf = newToken()
        _ = try await store.insertSession(tokenHash: Store.sha256Hex(Array(token.utf8)), holderID: holderID,
                                          certificateFingerprint: certificateFingerprint, stage: stage.rawValue, csrfToken: csrf,
                                          idleTimeout: idleTimeout, at: clock.now())
        return SessionState(token: token, csrfToken: csrf, holderID: holderID, stage: stage, certificateFingerprint: certificateFingerprint)
    }

    /// Resumes the session for `token` if it is live and bound to the certificate presented
    /// (`certificateDER`). A session presented with another certificate, or none, is ended.
    /// Refusals of a known session are audited (other certificate, timeout); an unknown token is logged.
    public func resume(token: String, certificateDER: [UInt8]?, clientAddress: String) async throws -> SessionState {
        let certificateFingerprint = certificateDER.map { Store.sha256Hex($0) }
        let hash = Store.sha256Hex(Array(token.utf8))
        guard let row = try await store.sessionRecord(tokenHash: hash) else {
            // An unknown token decides nothing about anyone (anyone can send one): log, do not audit.
            logger.info("unknown session token", metadata: ["client": "\(clientAddress)"])
            throw BizDirectError.unauthenticated("session.missing", "Your session has ended. Please log on again.")
        }
        if let reason = row.endedReason {
            // Ended by a lock, a PIN change, a revocation or the administrator: say which, once.
            try await end(hash, holderID: row.holderID, denial: reason, clientAddress: clientAddress, presentedFingerprint: certificateFingerprint)
            throw Self.endedError(reason)
        }
        guard let stage = LogonStage(rawValue: row.stage) else {
            try await end(hash, holderID: row.holderID, denial: "session.stageUnknown", clientAddress: clientAddress, presentedFingerprint: certificateFingerprint)
            throw BizDirectError.internal("session.stageUnknown", "The session could not be read. Please log on again.")
        }
        guard row.certificateFingerprint == certificateFingerprint else {
            try await end(hash, holderID: row.holderID, denial: "session.certificateMismatch", clientAddress: clientAddress,
                          presentedFingerprint: certificateFingerprint)
            throw BizDirectError.forbidden("session.certificateMismatch", "This session belongs to another certificate. It has been ended; please close the browser and log on again.")
        }
        let now = clock.now()
        if case .deny(let reason) = SessionPolicy.evaluate(created: row.createdAt, lastSeen: row.lastSeenAt, now: now,
                                                           idleTimeout: row.idleTimeout, absoluteTimeout: absoluteTimeout) {
            try await end(hash, holderID: row.holderID, denial: reason, clientAddress: clientAddress, presentedFingerprint: certificateFingerprint)
            throw BizDirectError.expired(reason, "Your session has timed out. Please log on again.")
        }
        // Activity is written at most once per 1/60 of the idle timeout (15 s of a 15-minute one),
        // not on every page view: the idle timeout is that much less exact, and a busy session
        // costs one read per request instead of a read and a write.
        if now.timeIntervalSince(row.lastSeenAt) >= row.idleTimeout / 60 {
            try await store.touchSession(tokenHash: hash, at: now)
        }
        return SessionState(token: token, csrfToken: row.csrfToken, holderID: row.holderID, stage: stage,
                            certificateFingerprint: row.certificateFingerprint)
    }

    /// The error a session ended by someone else shows: the page says why.
    static func endedError(_ reason: String) -> BizDirectError {
        switch reason {
        case "session.locked": .locked(reason, "The service has been locked. Your session has ended.")
        case "session.revoked": .revoked(reason, "Your certificate has been revoked. Your session has ended.")
        default: .unauthenticated(reason, "Your session has ended. Please log on again.")
        }
    }

    /// The holder logs off: the session ends on the server, and the audit chain says so.
    public func logoff(_ session: SessionState, clientAddress: String) async throws {
        try await end(Store.sha256Hex(Array(session.token.utf8)), holderID: session.holderID, denial: nil, clientAddress: clientAddress,
                      presentedFingerprint: session.certificateFingerprint, action: "session.logoff")
    }

    /// Ends the session with token hash `hash` (if any) and records why, in one transaction:
    /// `denial` nil means an allowed end (logoff).
    private func end(_ hash: String?, holderID: UUID?, denial: String?, clientAddress: String, presentedFingerprint: String?,
                     action: String = "session.resume") async throws {
        let holder: HolderModel? = if let holderID { try await store.holder(id: holderID) } else { nil }
        let actor = holder?.auditName ?? "anonymous"
        let serial: String? = if let presentedFingerprint { try await store.certificate(fingerprint: presentedFingerprint)?.serial } else { nil }
        let event = AuditEvent(actor: actor, action: action, target: actor, outcome: denial.map { .denied($0) } ?? .allowed,
                               clientAddress: clientAddress, certificateSerial: serial ?? "-")
        let now = clock.now()
        try await store.transaction { tx in
            if let hash { try await tx.deleteSession(tokenHash: hash) }
            try await tx.appendAudit(event, at: now)
        }
    }

    /// Moves the session to `stage` under a new id (the old id stops working). Only the logon
    /// flow calls this.
    func stepUp(token: String, to stage: LogonStage) async throws -> SessionState {
        let hash = Store.sha256Hex(Array(token.utf8))
        guard let row = try await store.session(tokenHash: hash) else {
            throw BizDirectError.unauthenticated("session.missing", "Your session has ended. Please log on again.")
        }
        let token = newToken(), csrf = newToken()
        row.tokenHash = Store.sha256Hex(Array(token.utf8))
        row.csrfToken = csrf
        row.stage = stage.rawValue
        row.lastSeenAt = clock.now()
        try await store.update(row)
        return SessionState(token: token, csrfToken: csrf, holderID: row.holderID, stage: stage, certificateFingerprint: row.certificateFingerprint)
    }

    /// Ends the session on the server.
    public func end(token: String) async throws {
        try await store.deleteSession(tokenHash: Store.sha256Hex(Array(token.utf8)))
    }

    /// Number of stored sessions.
    public func count() async throws -> Int { try await store.sessionCount() }

    /// Deletes sessions that ended, went idle past the longest idle timeout, or passed the
    /// absolute timeout, and old rate buckets (the purge job; it decides nothing about anyone, so
    /// it is not audited). Runs at most once per `every` across all instances on the database
    /// (`Store.claimDueJob`); returns nil when this call did not run it.
    @discardableResult
    public func purge(longestIdleTimeout: TimeInterval, every interval: TimeInterval = 0) async throws -> Int? {
        let now = clock.now()
        return try await store.transaction { [absoluteTimeout] tx -> Int? in
            guard try await tx.claimDueJob("session-purge", every: interval, at: now) else { return nil }
            try await tx.purgeRateBuckets(before: now)
            return try await tx.purgeSessions(idleBefore: now.addingTimeInterval(-longestIdleTimeout),
                                              absoluteBefore: now.addingTimeInterval(-absoluteTimeout))
        }
    }

    private func newToken() -> String {
        Data(random.bytes(32)).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
