import BizDirectCore
import Foundation
import Policy
import Storage

/// What the holder sees after a logon input: the next step, and the session to carry on with
/// (a new id at every step; nil when there is still no session).
public struct LogonOutcome: Sendable {
    /// What to show.
    public let step: LogonStep
    /// The session, under its new id.
    public let session: SessionState?
}

/// The logon state machine (`LogonPolicy`) applied: the only code that makes or advances a
/// logon session. Each operation takes the session and the input for its step, refuses (and
/// audits) an input the session is not at, checks the certificate itself, and returns the next
/// step as a value for the web front end to render.
public struct LogonFlow: Sendable {
    let logon: LogonService
    let sessions: SessionService
    let cards: CardService
    let certificates: CertificateService
    let store: Store
    let userIdleTimeout: TimeInterval
    let staffIdleTimeout: TimeInterval

    /// The PIN step: the certificate and the PIN. It needs no session (so `GET /logon` stores
    /// nothing); a right PIN starts one at the next stage.
    public func submitPIN(certificateDER: [UInt8]?, pin: PIN, clientAddress: String) async throws -> LogonOutcome {
        let (presented, holder) = try await validHolder(certificateDER, clientAddress: clientAddress, input: .pin, session: nil)
        let serial = presented.serial ?? "-"
        try await logon.limitLogonStarts(holderID: holder.id)
        try await logon.verifyPIN(holderID: holder.id, pin: pin, clientAddress: clientAddress, certificateSerial: serial)
        let stage = LogonPolicy.stage(after: .pin, role: holder.role, mustChangePINs: try await logon.mustChangePINs(holderID: holder.id))
        let timeout = LogonPolicy.idleTimeout(role: holder.role, user: userIdleTimeout, staff: staffIdleTimeout)
        guard let fingerprint = presented.fingerprint else { throw BizDirectError.internal("logon.fingerprint", "No certificate fingerprint.") }
        let session = try await sessions.start(holderID: holder.id, certificateFingerprint: fingerprint, stage: stage, idleTimeout: timeout)
        return try await outcome(session, holder: holder, serial: presented.serial)
    }

    /// The card step (administrators), only in a session whose PIN step passed.
    public func submitCard(token: String, certificateDER: [UInt8]?, answers: [String: String], clientAddress: String) async throws -> LogonOutcome {
        let session = try await sessions.resume(token: token, certificateDER: certificateDER, clientAddress: clientAddress)
        let (presented, holder) = try await validHolder(certificateDER, clientAddress: clientAddress, input: .card, session: session)
        try await logon.verifyCard(holderID: holder.id, answers: answers, cards: cards, clientAddress: clientAddress,
                                   certificateSerial: presented.serial ?? "-")
        let next = LogonPolicy.stage(after: .card, role: holder.role, mustChangePINs: try await logon.mustChangePINs(holderID: holder.id))
        return try await outcome(try await sessions.stepUp(token: session.token, to: next), holder: holder, serial: presented.serial)
    }

    /// The forced change of PINs, only at that stage. The holder's other sessions end.
    public func changePINs(token: String, certificateDER: [UInt8]?, pin: PIN, confirmation: PIN, clientAddress: String) async throws -> LogonOutcome {
        let session = try await sessions.resume(token: token, certificateDER: certificateDER, clientAddress: clientAddress)
        let (presented, holder) = try await validHolder(certificateDER, clientAddress: clientAddress, input: .changePINs, session: session)
        try await logon.changePINs(holderID: holder.id, current: nil, pin: pin, confirmation: confirmation, clientAddress: clientAddress,
                                   certificateSerial: presented.serial ?? "-", keepingSession: token)
        return try await outcome(try await sessions.stepUp(token: session.token, to: .complete), holder: holder, serial: presented.serial)
    }

    /// The page for a session's current stage (a reload of the card or PIN-change page).
    public func current(token: String, certificateDER: [UInt8]?, clientAddress: String) async throws -> (LogonStep, SessionState, HolderSummary) {
        let session = try await sessions.resume(token: token, certificateDER: certificateDER, clientAddress: clientAddress)
        guard let holderID = session.holderID, let holder = try await logon.holderSummary(id: holderID) else {
            throw BizDirectError.unauthenticated("session.missing", "Your session has ended. Please log on again.")
        }
        return (try await step(for: session.stage, holder: holder), session, holder)
    }

    /// The certificate presented must be valid and name the session's holder; the input must be
    /// the one the session is at. Each refusal is audited.
    private func validHolder(_ certificateDER: [UInt8]?, clientAddress: String, input: LogonInput,
                             session: SessionState?) async throws -> (PresentedCertificate, HolderSummary) {
        let presented = try await logon.examine(certificateDER: certificateDER, clientAddress: clientAddress)
        guard presented.check == .valid, let holder = presented.holder else {
            throw BizDirectError.forbidden("logon.certificateNotValid", "Log on with a valid certificate of this bank.")
        }
        if let session, session.holderID != holder.id {
            try await store.refuse("session.certificateMismatch", "This session belongs to another certificate.", actor: holder.auditName,
                                   action: "logon.\(input.rawValue)", target: holder.loginID, clientAddress: clientAddress,
                                   certificateSerial: presented.serial ?? "-", at: logon.clock.now())
        }
        if case .deny(let reason) = LogonPolicy.accepts(input, at: session?.stage) {
            try await store.refuse(reason, "This step of the logon is not the current one. Please log on again.", actor: holder.auditName,
                                   action: "logon.\(input.rawValue)", target: holder.loginID, clientAddress: clientAddress,
                                   certificateSerial: presented.serial ?? "-", at: logon.clock.now())
        }
        return (presented, holder)
    }

    /// The step a session at `stage` shows; reaching `.complete` ends the logon: the failure
    /// counter clears, and a renewed certificate's first logon supersedes the older one.
    private func outcome(_ session: SessionState, holder: HolderSummary, serial: String?) async throws -> LogonOutcome {
        if session.stage == .complete {
            try await store.resetFailureCount(holderID: holder.id)
            if let serial { _ = try await logon.supersedeOlderCertificates(holderID: holder.id, presentedSerial: serial, certificates: certificates) }
        }
        return LogonOutcome(step: try await step(for: session.stage, holder: holder), session: session)
    }

    private func step(for stage: LogonStage, holder: HolderSummary) async throws -> LogonStep {
        switch stage {
        case .card: .card(cells: try await cards.challenge(contractID: holder.scope))
        case .changePINs: .changePINs
        case .complete: .home
        }
    }
}
