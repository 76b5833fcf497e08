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

    /// `secrets` is the group for routes that check a secret: each is rate-limited on its matched route.
    func register(on router: Router<BizDirectRequestContext>, secrets: RouterGroup<BizDirectRequestContext>) {
        router.get("/logon", use: showLogon)
        secrets.post("/logon/pin", use: submitPIN)
        router.get("/logon/card", use: showCard)
        secrets.post("/logon/card", use: submitCard)
        router.get("/logon/change-pin", use: showChangePIN)
        secrets.post("/logon/change-pin", use: submitChangePIN)
        router.get("/home", use: showHome)
        router.post("/logoff", use: logoff)
        StaticFiles.register(on: router)
    }

    /// Checks the certificate; explains what is wrong, or asks for the PIN. Nothing is stored:
    /// the session is made by the RA once the PIN is right.
    func showLogon(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let presented = try await ra.logon.examine(certificateDER: context.peerCertificateDER, clientAddress: context.clientAddress)
        guard presented.check == .valid, let holder = presented.holder else {
            if presented.check == .none, let remembered = request.cookies[Self.rememberCookie]?.value,
               let problem = try await ra.logon.rememberedProblem(fingerprint: remembered) {
                return explanation(problem, language: context.language)
            }
            return explanation(presented.check, language: context.language)
        }
        if let wanted = request.uri.queryParameters["as"].map(String.init), !Self.matches(holder.role, wanted) {
            return wrongCertificate(holder.role, wanted: wanted, language: context.language)
        }
        if holder.locked { return lockedPage(context.language) }
        return pinPage(holder, language: context.language, status: .ok, error: nil)
    }

    /// The PIN step. The RA checks the certificate and the PIN, and decides the next step.
    func submitPIN(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let fields = try await Forms.fields(request, limit: ra.configuration.maximumBodySize)
        try await FormToken.require(fields, request, context, gate: gate)
        do {
            let outcome = try await ra.logonFlow.submitPIN(certificateDER: context.peerCertificateDER, pin: PIN(fields["pin"] ?? ""),
                                                           clientAddress: context.clientAddress)
            return try render(outcome, presentedFingerprint: outcome.session?.certificateFingerprint)
        } catch let error as BizDirectError where error.kind == .unauthenticated {
            let presented = try await ra.logon.examine(certificateDER: context.peerCertificateDER, clientAddress: context.clientAddress)
            guard let holder = presented.holder else { throw error }
            return pinPage(holder, language: context.language, status: .unauthorized, error: Strings.message(error, context.language),
                           token: fields["csrf"])
        } catch let error as BizDirectError where error.kind == .locked {
            return lockedPage(context.language)
        }
    }

    /// The card step page (administrators): the pending challenge, the same until answered.
    func showCard(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        try await showCurrent(request, context: context, expecting: .card)
    }

    func submitCard(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (token, fields) = try await sessionForm(request, context: context)
        var answers: [String: String] = [:]
        for (name, value) in fields where name.hasPrefix("card_") { answers[String(name.dropFirst(5))] = value }
        do {
            let outcome = try await ra.logonFlow.submitCard(token: token, certificateDER: context.peerCertificateDER, answers: answers,
                                                            clientAddress: context.clientAddress)
            return try render(outcome, presentedFingerprint: outcome.session?.certificateFingerprint)
        } catch let error as BizDirectError where error.kind == .unauthenticated && error.reason == "pin.wrong" {
            let (step, session, holder) = try await ra.logonFlow.current(token: token, certificateDER: context.peerCertificateDER,
                                                                         clientAddress: context.clientAddress)
            guard case .card(let cells) = step else { throw error }
            return try await cardPage(holder, cells: cells, csrf: session.csrfToken, language: context.language,
                                      error: Strings.table(context.language)["error.card.wrong"])
        } catch let error as BizDirectError where error.kind == .locked {
            return lockedPage(context.language)
        }
    }

    /// The forced change of PINs at first logon (or after someone else set them).
    func showChangePIN(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        try await showCurrent(request, context: context, expecting: .changePINs)
    }

    func submitChangePIN(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (token, fields) = try await sessionForm(request, context: context)
        do {
            let outcome = try await ra.logonFlow.changePINs(token: token, certificateDER: context.peerCertificateDER, pin: PIN(fields["pin"] ?? ""),
                                                            confirmation: PIN(fields["confirmation"] ?? ""), clientAddress: context.clientAddress)
            return try render(outcome, presentedFingerprint: nil)
        } catch let error as BizDirectError where error.kind == .malformed {
            let (_, session, holder) = try await ra.logonFlow.current(token: token, certificateDER: context.peerCertificateDER,
                                                                      clientAddress: context.clientAddress)
            var values = changeValues(holder, csrf: session.csrfToken)
            values["error"] = Strings.message(error, context.language)
            return renderer.page("change-pin", language: context.language, status: .badRequest, values: values)
        }
    }

    /// Shows the page of the session's current stage, when it is the one asked for.
    private func showCurrent(_ request: Request, context: BizDirectRequestContext, expecting: LogonInput) async throws -> Response {
        guard let token = request.cookies[SessionGate.cookieName]?.value, !token.isEmpty else {
            throw BizDirectError.unauthenticated("session.missing", "Log on again.")
        }
        let (step, session, holder) = try await ra.logonFlow.current(token: token, certificateDER: context.peerCertificateDER,
                                                                     clientAddress: context.clientAddress)
        switch (step, expecting) {
        case (.card(let cells), .card): return try await cardPage(holder, cells: cells, csrf: session.csrfToken, language: context.language, error: nil)
        case (.changePINs, .changePINs): return renderer.page("change-pin", language: context.language, values: changeValues(holder, csrf: session.csrfToken))
        default: throw BizDirectError.unauthenticated("session.missing", "Log on again.")
        }
    }

    /// Renders the step the RA decided: a redirect to its page under the session's new id.
    private func render(_ outcome: LogonOutcome, presentedFingerprint: String?) throws -> Response {
        guard let session = outcome.session else { throw BizDirectError.unauthenticated("session.missing", "Log on again.") }
        let location = switch outcome.step {
        case .pin: "/logon"
        case .card: "/logon/card"
        case .changePINs: "/logon/change-pin"
        case .home: "/home"
        }
        var response = Response(status: .seeOther, headers: [.location: location])
        response.setCookie(SessionGate.cookie(session.token))
        if let presentedFingerprint, outcome.step != .pin {
            // Remember which certificate this browser logs on with, to explain its expiry later.
            response.setCookie(Cookie(name: Self.rememberCookie, value: presentedFingerprint, maxAge: 2 * 366 * 86_400, path: "/",
                                      secure: true, httpOnly: true, sameSite: .strict))
        }
        return response
    }

    static let rememberCookie = "__Host-bizdirect_certificate"

    /// The PIN form; after a wrong PIN the form keeps its token, so the browser can simply try again.
    private func pinPage(_ holder: HolderSummary, language: Language, status: HTTPResponse.Status, error: String?, token: String? = nil) -> Response {
        let token = token ?? FormToken.make()
        var values = pinValues(holder, csrf: token, language: language)
        if let error { values["error"] = error }
        var response = renderer.page("pin", language: language, status: status, values: values)
        response.setCookie(FormToken.cookie(token))
        return response
    }

    /// The holder's home page: who they are and their certificate.
    func showHome(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let user = try await gate.complete(request, context: context)
        let table = Strings.table(context.language)
        return renderer.page("home", language: context.language, values: [
            "name": user.holder.name, "role": table["role.\(user.holder.role.rawValue)"] ?? user.holder.role.rawValue,
            "serial": user.presented.serial ?? "", "csrf": user.session.csrfToken, "staff": user.holder.role.isStaff, "administrator": user.holder.role == .administrator,
            "renewal": user.presented.notAfter.map { ra.logon.renewalOpen(notAfter: $0) } ?? false,
            "expiry": user.presented.notAfter.map { PageRenderer.format($0, language: context.language) } ?? "",
        ])
    }

    /// Destroys the session and tells the holder to close the browser.
    func logoff(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (session, _) = try await resumeForm(request, context: context)
        try await ra.sessions.logoff(session, clientAddress: context.clientAddress)
        var response = message("logoff", language: context.language)
        response.setCookie(Cookie(name: SessionGate.cookieName, value: "", maxAge: 0, path: "/", secure: true, httpOnly: true, sameSite: .strict))
        return response
    }

    private func resumeForm(_ request: Request, context: BizDirectRequestContext) async throws -> (SessionState, [String: String]) {
        let session = try await gate.resume(request, context: context)
        let fields = try await Forms.fields(request, limit: ra.configuration.maximumBodySize)
        try await gate.requireCSRF(fields, expected: session.csrfToken, request, context)
        return (session, fields)
    }

    /// A logon-step form: the session token and the fields, with the session's CSRF token checked.
    private func sessionForm(_ request: Request, context: BizDirectRequestContext) async throws -> (String, [String: String]) {
        let (session, fields) = try await resumeForm(request, context: context)
        return (session.token, fields)
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
