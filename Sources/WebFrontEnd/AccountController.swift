import BizDirectCore
import Foundation
import Hummingbird
import RegistrationAuthority

/// A logged-on holder's own account: changing PINs and renewing the certificate.
struct AccountController {
    let ra: RegistrationAuthority
    let renderer: PageRenderer
    var gate: SessionGate { SessionGate(ra: ra) }

    /// The JSON the renewal page posts.
    struct RenewBody: Decodable {
        let csrf: String
        let csr: String
        let pin: String
    }

    /// `secrets` is the group for routes that check a secret: each is rate-limited on its matched route.
    func register(on router: Router<BizDirectRequestContext>, secrets: RouterGroup<BizDirectRequestContext>) {
        router.get("/pins", use: showPINs)
        secrets.post("/pins", use: changePINs)
        router.get("/renew", use: showRenew)
        secrets.post("/renew/issue", use: renew)
        router.post("/renew/needs-script") { _, context in AcquisitionController.needsScript(renderer, context.language) }
    }

    func showPINs(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let user = try await gate.complete(request, context: context)
        return renderer.page("change-pin", language: context.language, values: values(user))
    }

    /// Current PIN plus the new ones; a wrong current PIN counts towards the lock.
    func changePINs(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, fields) = try await gate.completeForm(request, context: context)
        do {
            try await ra.logon.changePINs(holderID: user.holder.id, current: PIN(fields["current"] ?? ""), pin: PIN(fields["pin"] ?? ""),
                                          confirmation: PIN(fields["confirmation"] ?? ""), clientAddress: context.clientAddress,
                                          certificateSerial: user.presented.serial ?? "-", keepingSession: user.session.token)
        } catch let error as BizDirectError where error.kind == .malformed || error.kind == .unauthenticated {
            var values = values(user)
            values["error"] = Strings.message(error, context.language)
            return renderer.page("change-pin", language: context.language, status: .badRequest, values: values)
        }
        let table = Strings.table(context.language)
        return renderer.page("message", language: context.language, values: ["heading": table["pins.link"] ?? "", "body": table["pins.done"] ?? ""])
    }

    func showRenew(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let user = try await gate.complete(request, context: context)
        return renderer.page("renew", language: context.language,
                      values: ["csrf": user.session.csrfToken, "pinLabel": Strings.pinLabel(user.holder.role, context.language)])
    }

    /// Issues the renewed certificate; the page builds the PKCS#12.
    func renew(_ request: Request, context: BizDirectRequestContext) async throws -> AcquisitionController.IssueReply {
        let user = try await gate.complete(request, context: context)
        let body = try await Forms.json(RenewBody.self, request, limit: ra.configuration.maximumBodySize)
        try await gate.requireCSRF(["csrf": body.csrf], expected: user.session.csrfToken, request, context, by: user)
        let table = Strings.table(context.language)
        do {
            let issued = try await ra.logon.renew(holderID: user.holder.id, presentedSerial: user.presented.serial ?? "", pin: PIN(body.pin),
                                                  csr: Array(Data(base64Encoded: body.csr) ?? Data()), certificates: ra.certificates,
                                                  clientAddress: context.clientAddress)
            return .init(ok: true, certificate: Data(issued.der).base64EncodedString(),
                         chain: [ra.tlsMaterial.issuingCADER, ra.tlsMaterial.rootCADER].map { Data($0).base64EncodedString() },
                         serial: issued.serialHex, notAfter: PageRenderer.format(issued.notAfter, language: context.language),
                         name: "BizDirect \(user.holder.scope) \(user.holder.loginID)")
        } catch let error as BizDirectError where error.kind != .internal {
            return AcquisitionController.failure(error.reason, context.language, kind: error.kind)
        }
    }

    private func values(_ user: Authenticated) -> [String: Any] {
        ["csrf": user.session.csrfToken, "name": user.holder.name, "action": "/pins", "askCurrent": true,
         "administrator": user.holder.role == .administrator, "user": user.holder.role == .user, "staff": user.holder.role.isStaff]
    }
}
