import BizDirectCore
import Hummingbird
import RegistrationAuthority

/// A request whose session, certificate and holder all check out.
struct Authenticated {
    let session: SessionState
    let presented: PresentedCertificate
    let holder: HolderSummary
}

/// Checks the session cookie against the certificate presented on every authenticated request.
struct SessionGate {
    let ra: RegistrationAuthority
    static let cookieName = "__Host-bizdirect_session"

    /// The live session bound to the certificate presented (any stage).
    func resume(_ request: Request, context: BizDirectRequestContext) async throws -> SessionState {
        guard let token = request.cookies[Self.cookieName]?.value, !token.isEmpty else {
            throw BizDirectError.unauthenticated("session.missing", "No session.")
        }
        return try await ra.sessions.resume(token: token, certificateDER: context.peerCertificateDER, clientAddress: context.clientAddress)
    }

    /// A completed logon whose certificate is still valid and still the holder's. The certificate
    /// is checked again on every request, but only a refusal is a new decision (audited, once): the
    /// logon that made the session already recorded the allowed certificate, so a page view under
    /// it writes nothing to the audit chain (before, every page view appended a `logon.certificate`
    /// event under the chain's one lock).
    func complete(_ request: Request, context: BizDirectRequestContext) async throws -> Authenticated {
        let session = try await resume(request, context: context)
        guard session.stage == .complete else { throw BizDirectError.unauthenticated("session.missing", "Logon is not complete.") }
        let presented = try await ra.logon.classify(context.peerCertificateDER)
        guard presented.check == .valid, let holder = presented.holder, holder.id == session.holderID else {
            try await ra.sessions.end(token: session.token)
            try await refuse("session.certificateMismatch", "The certificate is no longer valid for this session.", request, context)
        }
        return Authenticated(session: session, presented: presented, holder: holder)
    }

    /// A completed logon posting a form with the right CSRF token.
    func completeForm(_ request: Request, context: BizDirectRequestContext) async throws -> (Authenticated, [String: String]) {
        let authenticated = try await complete(request, context: context)
        let fields = try await Forms.fields(request, limit: ra.configuration.maximumBodySize)
        try await requireCSRF(fields, expected: authenticated.session.csrfToken, request, context, by: authenticated)
        return (authenticated, fields)
    }

    /// Refuses, and audits, a form whose CSRF token does not match. `user` names the actor when known.
    func requireCSRF(_ fields: [String: String], expected: String, _ request: Request, _ context: BizDirectRequestContext,
                     by user: Authenticated? = nil) async throws {
        guard !Forms.csrfMatches(fields, expected: expected) else { return }
        try await refuse("csrf.invalid", "The form has expired. Please try again.", request, context, by: user)
    }

    /// The acting staff member, for branch workflows; anyone else is refused, and audited.
    func staffActor(_ user: Authenticated, _ request: Request, _ context: BizDirectRequestContext) async throws -> StaffActor {
        guard user.holder.role.isStaff else { try await refuse("branch.staffOnly", "This page is for bank staff.", request, context, by: user) }
        return StaffActor(holderID: user.holder.id, staffID: user.holder.loginID, role: user.holder.role, clientAddress: context.clientAddress,
                          certificateSerial: user.presented.serial ?? "-")
    }

    /// Turns a request away from the web front end itself (bad form token, wrong role): when the
    /// request names a holder (their session, or their certificate) the refusal goes into the
    /// audit chain with the path asked for; a request that names nobody is only logged.
    func refuse(_ reason: String, _ detail: String, _ request: Request, _ context: BizDirectRequestContext,
                by user: Authenticated? = nil) async throws -> Never {
        var actor = user?.holder.auditName, serial = user?.presented.serial
        if actor == nil, context.peerCertificateDER != nil {
            let presented = try await ra.logon.classify(context.peerCertificateDER)
            actor = presented.holder?.auditName
            serial = presented.serial
        }
        if let actor {
            try await ra.audit(AuditEvent(actor: actor, action: "web.request", target: request.uri.path,
                                          outcome: .denied(reason), clientAddress: context.clientAddress, certificateSerial: serial ?? "-"))
        } else {
            context.logger.notice("request refused", metadata: ["reason": "\(reason)", "path": "\(AuditEvent.bounded(request.uri.path))"])
        }
        throw BizDirectError.forbidden(reason, detail)
    }

    /// The session cookie.
    static func cookie(_ token: String) -> Cookie {
        Cookie(name: cookieName, value: token, path: "/", secure: true, httpOnly: true, sameSite: .strict)
    }
}

/// The CSRF token of a form shown before any session exists (the PIN step, acquisition): a
/// random value in the page and in a `__Host-` cookie, compared on submission (double submit).
enum FormToken {
    static let cookieName = "__Host-bizdirect_form"

    /// A fresh token.
    static func make() -> String { Hex.encode(SystemRandom().bytes(16)) }

    /// The cookie that carries `token`.
    static func cookie(_ token: String) -> Cookie {
        Cookie(name: cookieName, value: token, path: "/", secure: true, httpOnly: true, sameSite: .strict)
    }

    /// Refuses (audited) a form whose token does not match its cookie.
    static func require(_ fields: [String: String], _ request: Request, _ context: BizDirectRequestContext, gate: SessionGate) async throws {
        try await gate.requireCSRF(fields, expected: request.cookies[cookieName]?.value ?? "", request, context)
    }
}
