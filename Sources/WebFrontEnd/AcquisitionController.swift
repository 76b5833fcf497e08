import BizDirectCore
import Foundation
import Hummingbird
import RegistrationAuthority

/// Certificate acquisition on the public site. The page makes the key and the PKCS#10 request
/// with WebCrypto (our own scripts, no CDN), posts the request here, and builds the PKCS#12
/// itself; the private key never reaches the server.
struct AcquisitionController {
    let ra: RegistrationAuthority
    let renderer: PageRenderer

    /// The JSON the page posts.
    struct IssueBody: Decodable {
        let kind: String
        let csrf: String
        let csr: String
        let contractID: String?
        let userID: String?
        let code: String?
        let pin: String
        let confirmationPIN: String?
        let card: [String: String]?
    }

    /// The JSON the page gets back, with the HTTP status the error kind maps to (200 on success).
    struct IssueReply: Encodable, ResponseGenerator {
        let ok: Bool
        var certificate: String?
        var chain: [String]?
        var serial: String?
        var notAfter: String?
        var name: String?
        var message: String?
        var status: HTTPResponse.Status = .ok

        enum CodingKeys: String, CodingKey { case ok, certificate, chain, serial, notAfter, name, message }

        func response(from request: Request, context: some RequestContext) throws -> Response {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys   // the same answer is the same bytes
            let body = try encoder.encode(self)
            var response = Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                                    body: .init(byteBuffer: ByteBuffer(bytes: body)))
            if status == .serviceUnavailable { response.headers[.retryAfter] = "\(ErrorPageMiddleware.retryAfterSeconds)" }
            return response
        }
    }

    /// `secrets` is the group for routes that check a secret: each is rate-limited on its matched route.
    func register(on router: Router<BizDirectRequestContext>, secrets: RouterGroup<BizDirectRequestContext>) {
        router.get("/acquire") { _, context in renderer.page("acquire-choose", language: context.language) }
        // Literal routes: "/acquire/administrator/challenge" would shadow a "/acquire/:kind" parameter.
        for kind in ["administrator", "user", "staff"] {
            router.get("/acquire/\(kind)") { request, context in try await showForm(kind: kind, context: context) }
        }
        secrets.post("/acquire/administrator/challenge", use: administratorChallenge)
        secrets.post("/acquire/issue", use: issue)
        // The form's own action, used only when the page's script did not run: the secrets arrive
        // in a POST body (never a URL), are not read, and the page says scripts are needed.
        router.post("/acquire/needs-script") { _, context in Self.needsScript(renderer, context.language) }
    }

    /// The form for users and staff, or the first step (contract ID) for administrators.
    func showForm(kind: String, context: BizDirectRequestContext) async throws -> Response {
        return formPage(kind == "administrator" ? "acquire-contract" : "acquire", language: context.language, values: ["kind": kind, kind: true])
    }

    /// Administrators: after the contract ID, the form with the card cells to answer.
    func administratorChallenge(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let fields = try await Forms.fields(request, limit: ra.configuration.maximumBodySize)
        try await requireFormCookie(request, token: fields["csrf"] ?? "", context: context)
        do {
            let contractID = try ContractID(parsing: fields["contractID"] ?? "").digits
            let cells = try await ra.cards.challenge(contractID: contractID)
            return formPage("acquire", language: context.language, values: [
                "kind": "administrator", "administrator": true, "contractID": contractID, "cells": cells.map { ["cell": $0] },
            ])
        } catch let error as BizDirectError where error.kind == .malformed {
            let message = Strings.message(error, context.language)
            return formPage("acquire-contract", language: context.language, status: .badRequest,
                            values: ["kind": "administrator", "error": message, "contractID": fields["contractID"] ?? ""])
        }
    }

    /// Checks everything and issues; errors come back as JSON in the customer's language.
    func issue(_ request: Request, context: BizDirectRequestContext) async throws -> IssueReply {
        let body: IssueBody
        do { body = try await Forms.json(IssueBody.self, request, limit: ra.configuration.maximumBodySize) } catch {
            return failure("request.malformed", context.language)
        }
        try await requireFormCookie(request, token: body.csrf, context: context)
        guard let csr = Data(base64Encoded: body.csr) else { return failure("csr.unreadable", context.language) }
        let holder: AcquireCertificateRequest.Holder
        switch body.kind {
        case "administrator": holder = .administrator(contractID: body.contractID ?? "", cardAnswers: body.card ?? [:])
        case "user": holder = .user(contractID: body.contractID ?? "", userID: body.userID ?? "")
        case "staff": holder = .staff(code: body.code ?? "")
        default: return failure("request.malformed", context.language)
        }
        do {
            let acquired = try await ra.acquisition.acquire(AcquireCertificateRequest(
                holder: holder, pin: PIN(body.pin), confirmationPIN: body.confirmationPIN.map(PIN.init), csr: Array(csr),
                clientAddress: context.clientAddress))
            return IssueReply(ok: true, certificate: Data(acquired.certificate).base64EncodedString(),
                              chain: acquired.chain.map { Data($0).base64EncodedString() }, serial: acquired.serial,
                              notAfter: PageRenderer.format(acquired.notAfter, language: context.language), name: acquired.friendlyName)
        } catch let error as BizDirectError where error.kind != .internal {
            return failure(error.reason, context.language, kind: error.kind)
        }
    }

    static func failure(_ reason: String, _ language: Language, kind: BizDirectError.Kind = .malformed) -> IssueReply {
        IssueReply(ok: false, message: Strings.message(reason: reason, kind: kind, language), status: ErrorPageMiddleware.status(kind))
    }

    private func failure(_ reason: String, _ language: Language, kind: BizDirectError.Kind = .malformed) -> IssueReply {
        Self.failure(reason, language, kind: kind)
    }

    /// The answer to a key-making form posted without its script.
    static func needsScript(_ renderer: PageRenderer, _ language: Language) -> Response {
        renderer.page("message", language: language, status: .badRequest, values: [
            "heading": PageRenderer.fill("noscript.title", language: language, date: nil),
            "body": PageRenderer.fill("noscript.body", language: language, date: nil),
        ])
    }

    /// A form page with a fresh double-submit token (cookie and hidden field).
    private func formPage(_ template: String, language: Language, status: HTTPResponse.Status = .ok, values: [String: Any]) -> Response {
        let token = FormToken.make()
        var values = values
        values["csrf"] = token
        var response = renderer.page(template, language: language, status: status, values: values)
        response.setCookie(FormToken.cookie(token))
        return response
    }

    private func requireFormCookie(_ request: Request, token: String, context: BizDirectRequestContext) async throws {
        try await FormToken.require(["csrf": token], request, context, gate: SessionGate(ra: ra))
    }
}
