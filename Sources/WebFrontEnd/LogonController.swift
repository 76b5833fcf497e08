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
        router.get("/logon/card", use: showCard)
        router.post("/logon/card", use: submitCard)
        router.get("/logon/change-pin", use: showChangePIN)
        router.post("/logon/change-pin", use: submitChangePIN)
        router.get("/home", use: showHome)
        router.post("/logoff", use: logoff)
        StaticFiles.register(on: router)
    }

    /// Checks the certificate; explains what is wrong, or starts a session and asks for the PIN.
    func showLogon(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let presented = try await ra.logon.examine(certificateDER: context.peerCertificateDER, clientAddress: context.clientAddress)
        guard presented.check == .valid, let holder = presented.holder, let fingerprint = presented.fingerprint else {
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
        let timeout = holder.role == .user ? ra.configuration.userIdleTimeout : ra.configuration.staffIdleTimeout
        let session = try await ra.sessions.start(holderID: holder.id, certificateFingerprint: fingerprint, stage: "certificate", idleTimeout: timeout)
        var response = renderer.page("pin", language: context.language, values: pinValues(holder, csrf: session.csrfToken, language: context.language))
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
            var values: [String: Any] = ["csrf": session.csrfToken, "error": message]
            if let holder = presented.holder { values.merge(pinValues(holder, csrf: session.csrfToken, language: context.language)) { a, _ in a } }
            return renderer.page("pin", language: context.language, status: .unauthorized, values: values)
        } catch let error as BizDirectError where error.kind == .locked {
            try await ra.sessions.end(token: session.token)
            return lockedPage(context.language)
        }
        if presented.holder?.role == .administrator { return try await advance(session, to: "card", location: "/logon/card") }
        return try await finishLogon(session, holderID: holderID, serial: presented.serial)
    }

    /// The card step (administrators): the pending challenge, the same until answered.
    func showCard(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let session = try await gate.resume(request, context: context)
        guard session.stage == "card", let holderID = session.holderID, let holder = try await ra.logon.holderSummary(id: holderID) else {
            throw BizDirectError.unauthenticated("session.missing", "Log on again.")
        }
        return try await cardPage(contractID: holder.scope, csrf: session.csrfToken, language: context.language, error: nil)
    }

    func submitCard(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (session, fields) = try await resumeForm(request, context: context)
        guard session.stage == "card", let holderID = session.holderID, let holder = try await ra.logon.holderSummary(id: holderID) else {
            throw BizDirectError.unauthenticated("session.missing", "Log on again.")
        }
        let presented = try await ra.logon.examine(certificateDER: context.peerCertificateDER, clientAddress: context.clientAddress)
        var answers: [String: String] = [:]
        for (name, value) in fields where name.hasPrefix("card_") { answers[String(name.dropFirst(5))] = value }
        do {
            try await ra.logon.verifyCard(holderID: holderID, answers: answers, cards: ra.cards, clientAddress: context.clientAddress,
                                          certificateSerial: presented.serial ?? "-")
        } catch let error as BizDirectError where error.kind == .unauthenticated {
            let message = Strings.table(context.language)["error.card.wrong"] ?? ""
            return try await cardPage(contractID: holder.scope, csrf: session.csrfToken, language: context.language, error: message)
        } catch let error as BizDirectError where error.kind == .locked {
            try await ra.sessions.end(token: session.token)
            return lockedPage(context.language)
        }
        return try await finishLogon(session, holderID: holderID, serial: presented.serial)
    }

    /// The forced change of PINs at first logon (or after someone else set them).
    func showChangePIN(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let session = try await gate.resume(request, context: context)
        guard session.stage == "changePIN", let holderID = session.holderID, let holder = try await ra.logon.holderSummary(id: holderID) else {
            throw BizDirectError.unauthenticated("session.missing", "Log on again.")
        }
        return renderer.page("change-pin", language: context.language, values: changeValues(holder, csrf: session.csrfToken))
    }

    func submitChangePIN(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (session, fields) = try await resumeForm(request, context: context)
        guard session.stage == "changePIN", let holderID = session.holderID, let holder = try await ra.logon.holderSummary(id: holderID) else {
            throw BizDirectError.unauthenticated("session.missing", "Log on again.")
        }
        let presented = try await ra.logon.examine(certificateDER: context.peerCertificateDER, clientAddress: context.clientAddress)
        do {
            try await ra.logon.changePINs(holderID: holderID, current: nil, pin: PIN(fields["pin"] ?? ""), confirmation: PIN(fields["confirmation"] ?? ""),
                                          clientAddress: context.clientAddress, certificateSerial: presented.serial ?? "-")
        } catch let error as BizDirectError where error.kind == .malformed {
            var values = changeValues(holder, csrf: session.csrfToken)
            values["error"] = Strings.table(context.language)["error.\(error.reason)"] ?? ""
            return renderer.page("change-pin", language: context.language, status: .badRequest, values: values)
        }
        return try await advance(session, to: "complete", location: "/home")
    }

    /// After the last secret: forced PIN change, or the home page. A renewed certificate's first
    /// logon supersedes the older one.
    private func finishLogon(_ session: SessionState, holderID: UUID, serial: String?) async throws -> Response {
        if let serial { _ = try await ra.logon.supersedeOlderCertificates(holderID: holderID, presentedSerial: serial, certificates: ra.certificates) }
        var response = try await ra.logon.mustChangePINs(holderID: holderID)
            ? try await advance(session, to: "changePIN", location: "/logon/change-pin")
            : try await advance(session, to: "complete", location: "/home")
        // Remember which certificate this browser logs on with, to explain its expiry later.
        response.setCookie(Cookie(name: Self.rememberCookie, value: session.certificateFingerprint, maxAge: 2 * 366 * 86_400, path: "/logon",
                                  secure: true, httpOnly: true, sameSite: .strict))
        return response
    }

    static let rememberCookie = "bizdirect_certificate"

    private func advance(_ session: SessionState, to stage: String, location: String) async throws -> Response {
        let stepped = try await ra.sessions.stepUp(token: session.token, to: stage)
        var response = Response(status: .seeOther, headers: [.location: location])
        response.setCookie(SessionGate.cookie(stepped.token))
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
