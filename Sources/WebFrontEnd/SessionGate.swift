import BizDirectCore
import Hummingbird
import RegistrationAuthority

/// A request whose session, certificate and holder all check out.
struct Authenticated {
    let session: SessionState
    let presented: PresentedCertificate
    let holder: HolderSummary

    /// The acting staff member, for branch workflows.
    func staffActor(_ context: BizDirectRequestContext) throws -> StaffActor {
        guard holder.role.isStaff else { throw BizDirectError.forbidden("branch.staffOnly", "This page is for bank staff.") }
        return StaffActor(holderID: holder.id, staffID: holder.loginID, role: holder.role, clientAddress: context.clientAddress,
                          certificateSerial: presented.serial ?? "-")
    }
}

/// Checks the session cookie against the certificate presented on every authenticated request.
struct SessionGate {
    let ra: RegistrationAuthority
    static let cookieName = "bizdirect_session"

    /// The live session bound to the certificate presented (any stage).
    func resume(_ request: Request, context: BizDirectRequestContext) async throws -> SessionState {
        guard let token = request.cookies[Self.cookieName]?.value, !token.isEmpty else {
            throw BizDirectError.unauthenticated("session.missing", "No session.")
        }
        return try await ra.sessions.resume(token: token, certificateDER: context.peerCertificateDER, clientAddress: context.clientAddress)
    }

    /// A completed logon whose certificate is still valid and still the holder's.
    func complete(_ request: Request, context: BizDirectRequestContext) async throws -> Authenticated {
        let session = try await resume(request, context: context)
        guard session.stage == "complete" else { throw BizDirectError.unauthenticated("session.missing", "Logon is not complete.") }
        let presented = try await ra.logon.examine(certificateDER: context.peerCertificateDER, clientAddress: context.clientAddress)
        guard presented.check == .valid, let holder = presented.holder, holder.id == session.holderID else {
            try await ra.sessions.end(token: session.token)
            throw BizDirectError.forbidden("session.certificateMismatch", "The certificate is no longer valid for this session.")
        }
        return Authenticated(session: session, presented: presented, holder: holder)
    }

    /// A completed logon posting a form with the right CSRF token.
    func completeForm(_ request: Request, context: BizDirectRequestContext) async throws -> (Authenticated, [String: String]) {
        let authenticated = try await complete(request, context: context)
        let fields = try await Forms.fields(request, limit: ra.configuration.maximumBodySize)
        try Forms.requireCSRF(fields, expected: authenticated.session.csrfToken)
        return (authenticated, fields)
    }

    /// The session cookie.
    static func cookie(_ token: String) -> Cookie {
        Cookie(name: cookieName, value: token, path: "/", secure: true, httpOnly: true, sameSite: .strict)
    }
}
