import BizDirectCore
import Foundation
import Hummingbird
import Policy
import RegistrationAuthority

/// The certificate-logon site: certificate check, PIN, home and logoff. Every page here is
/// behind the client certificate; a session is only made for a valid, current certificate.
struct LogonController {
    let ra: RegistrationAuthority
    let renderer: PageRenderer
    var gate: SessionGate { SessionGate(ra: ra) }

    func register(on router: Router<BizDirectRequestContext>) {
        router.get("/logon", use: showLogon)
        router.post("/logon/pin", use: submitPIN)
        router.get("/home", use: showHome)
        router.post("/logoff", use: logoff)
        StaticFiles.register(on: router)
    }

    /// Checks the certificate; explains what is wrong, or starts a session and asks for the PIN.
    func showLogon(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let presented = try await ra.logon.examine(certificateDER: context.peerCertificateDER, clientAddress: context.clientAddress)
        guard presented.check == .valid, let holder = presented.holder, let fingerprint = presented.fingerprint else {
            return explanation(presented.check, language: context.language)
        }
        if holder.locked { return lockedPage(context.language) }
        let timeout = holder.role == .user ? ra.configuration.userIdleTimeout : ra.configuration.staffIdleTimeout
        let session = try await ra.sessions.start(holderID: holder.id, certificateFingerprint: fingerprint, stage: "certificate", idleTimeout: timeout)
        var response = renderer.page("pin", language: context.language, values: ["csrf": session.csrfToken, "name": holder.name])
        response.setCookie(SessionGate.cookie(session.token))
        return response
    }

    /// Checks the PIN; on success the session steps up under a new id.
    func submitPIN(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (session, fields) = try await resumeForm(request, context: context)
        guard let holderID = session.holderID else { throw BizDirectError.unauthenticated("session.missing", "No holder.") }
        let presented = try await ra.logon.examine(certificateDER: context.peerCertificateDER, clientAddress: context.clientAddress)
        do {
            try await ra.logon.verifyPIN(holderID: holderID, pin: PIN(fields["pin"] ?? ""), clientAddress: context.clientAddress,
                                         certificateSerial: presented.serial ?? "-")
        } catch let error as BizDirectError where error.kind == .unauthenticated {
            let message = Strings.table(context.language)["error.\(error.reason)"] ?? ""
            return renderer.page("pin", language: context.language, status: .unauthorized,
                                 values: ["csrf": session.csrfToken, "name": presented.holder?.name ?? "", "error": message])
        } catch let error as BizDirectError where error.kind == .locked {
            try await ra.sessions.end(token: session.token)
            return lockedPage(context.language)
        }
        let stepped = try await ra.sessions.stepUp(token: session.token, to: "complete")
        var response = Response(status: .seeOther, headers: [.location: "/home"])
        response.setCookie(SessionGate.cookie(stepped.token))
        return response
    }

    /// The holder's home page: who they are and their certificate.
    func showHome(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let user = try await gate.complete(request, context: context)
        let table = Strings.table(context.language)
        return renderer.page("home", language: context.language, values: [
            "name": user.holder.name, "role": table["role.\(user.holder.role.rawValue)"] ?? user.holder.role.rawValue,
            "serial": user.presented.serial ?? "", "csrf": user.session.csrfToken, "staff": user.holder.role.isStaff,
            "expiry": user.presented.notAfter.map { PageRenderer.format($0, language: context.language) } ?? "",
        ])
    }

    /// Destroys the session and tells the holder to close the browser.
    func logoff(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (session, _) = try await resumeForm(request, context: context)
        try await ra.sessions.end(token: session.token)
        var response = message("logoff", language: context.language)
        response.setCookie(Cookie(name: SessionGate.cookieName, value: "", maxAge: 0, path: "/", secure: true, httpOnly: true, sameSite: .strict))
        return response
    }

    private func resumeForm(_ request: Request, context: BizDirectRequestContext) async throws -> (SessionState, [String: String]) {
        let session = try await gate.resume(request, context: context)
        let fields = try await Forms.fields(request, limit: ra.configuration.maximumBodySize)
        try Forms.requireCSRF(fields, expected: session.csrfToken)
        return (session, fields)
    }

    private func explanation(_ check: CertificateCheck, language: Language) -> Response {
        let (problem, date): (String, Date?) = switch check {
        case .none: ("none", nil)
        case .foreign: ("foreign", nil)
        case .unknown, .valid: ("unknown", nil)
        case .expired(let at): ("expired", at)
        case .revoked(let at): ("revoked", at)
        case .notYetValid(let at): ("notYetValid", at)
        }
        return renderer.page("explain", language: language, status: .forbidden, values: [
            "problem": problem,
            "heading": PageRenderer.fill("cert.\(problem).title", language: language, date: nil),
            "body": PageRenderer.fill("cert.\(problem).body", language: language, date: date),
            "next": PageRenderer.fill("cert.\(problem).next", language: language, date: nil),
        ])
    }

    private func lockedPage(_ language: Language) -> Response {
        renderer.page("explain", language: language, status: .init(code: 423, reasonPhrase: "Locked"), values: [
            "problem": "locked", "heading": PageRenderer.fill("locked.title", language: language, date: nil),
            "body": PageRenderer.fill("locked.body", language: language, date: nil),
            "next": PageRenderer.fill("locked.next", language: language, date: nil),
        ])
    }

    private func message(_ key: String, language: Language) -> Response {
        renderer.page("message", language: language, values: [
            "heading": PageRenderer.fill("\(key).title", language: language, date: nil),
            "body": PageRenderer.fill("\(key).body", language: language, date: nil),
        ])
    }

}
