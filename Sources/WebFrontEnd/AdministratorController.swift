import BizDirectCore
import Foundation
import Hummingbird
import RegistrationAuthority

/// Contract management for the customer's administrator (ご契約先管理情報変更 → 利用者情報登録／変更).
struct AdministratorController {
    let ra: RegistrationAuthority
    let renderer: PageRenderer
    var gate: SessionGate { SessionGate(ra: ra) }

    /// `secrets` is the group for routes that check a secret: each is rate-limited on its matched route.
    func register(on router: Router<BizDirectRequestContext>, secrets: RouterGroup<BizDirectRequestContext>) {
        router.get("/admin", use: home)
        router.get("/admin/users/new", use: newUser)
        secrets.post("/admin/users", use: createUser)
        router.get("/admin/users/:user", use: showUser)
        secrets.post("/admin/users/:user", use: changeUser)
    }

    /// The user list and the contract's recent security events.
    func home(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, administrator) = try await authenticate(request, context: context)
        let table = Strings.table(context.language)
        var values = base(user)
        values["users"] = try await ra.administrators.users(administrator).map { line in
            ["userID": line.loginID, "name": line.name, "status": line.status, "statusName": table["user.status.\(line.status)"] ?? line.status,
             "serial": line.serial ?? "", "expiry": line.notAfter.map { PageRenderer.format($0, language: context.language) } ?? "",
             "loggedOn": line.loggedOn ? (table["admin.loggedOn.yes"] ?? "") : ""]
        }
        values["events"] = try await ra.administrators.recentEvents(administrator)
        return renderer.page("admin-home", language: context.language, values: values)
    }

    func newUser(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, _) = try await authenticate(request, context: context)
        return renderer.page("admin-user-new", language: context.language, values: base(user))
    }

    /// Registers a user; confirmed with the contract confirmation PIN (wrong answers count).
    func createUser(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, fields) = try await gate.completeForm(request, context: context)
        let administrator = try await actor(user, request, context)
        do {
            try await ra.administrators.registerUser(
                RegisterUserRequest(contractID: administrator.contractID, userID: fields["userID"] ?? "", name: fields["name"] ?? "",
                                    pin: PIN(fields["pin"] ?? ""), confirmationPIN: PIN(fields["confirmation"] ?? "")),
                by: administrator, confirmationPIN: PIN(fields["contractConfirmation"] ?? ""))
        } catch let error as BizDirectError where [.malformed, .unauthenticated, .conflict].contains(error.kind) {
            var values = base(user)
            values["error"] = Strings.message(error, context.language)
            values["form"] = ["userID": fields["userID"] ?? "", "name": fields["name"] ?? ""]
            return renderer.page("admin-user-new", language: context.language, status: .badRequest, values: values)
        } catch let error as BizDirectError where error.kind == .locked {
            try await ra.sessions.end(token: user.session.token)
            throw error
        }
        let table = Strings.table(context.language)
        var values = base(user)
        values["userID"] = TextNormaliser.normalise(fields["userID"] ?? "")
        values["heading"] = table["admin.registered"] ?? ""
        values["tell"] = true
        return renderer.page("admin-user-done", language: context.language, values: values)
    }

    /// The change screen for one user: name, PINs, re-issue, unlock, delete.
    func showUser(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, administrator) = try await authenticate(request, context: context)
        let userID = try context.parameters.require("user")
        guard let line = try await ra.administrators.users(administrator).first(where: { $0.loginID == userID }) else {
            throw BizDirectError.notFound("user.unknown", "Your contract has no user with this ID.")
        }
        var values = base(user)
        values["user"] = ["userID": line.loginID, "name": line.name, "locked": line.status == "locked"] as [String: Any]
        return renderer.page("admin-user", language: context.language, values: values)
    }

    /// Applies the chosen change, confirmed with the contract confirmation PIN.
    func changeUser(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, fields) = try await gate.completeForm(request, context: context)
        let administrator = try await actor(user, request, context)
        let userID = try context.parameters.require("user")
        let change: UserChange
        switch fields["action"] {
        case "rename": change = .rename(fields["name"] ?? "")
        case "setPINs": change = .setPINs(pin: PIN(fields["pin"] ?? ""), confirmation: PIN(fields["confirmation"] ?? ""))
        case "reissue": change = .reissue
        case "unlock": change = .unlock
        case "endSessions": change = .endSessions
        case "delete": change = .delete
        default: throw BizDirectError.malformed("request.malformed", "Choose what to change.")
        }
        let table = Strings.table(context.language)
        do {
            try await ra.administrators.change(userID: userID, change, by: administrator, confirmationPIN: PIN(fields["contractConfirmation"] ?? ""),
                                               certificates: ra.certificates)
        } catch let error as BizDirectError where [.malformed, .unauthenticated].contains(error.kind) {
            var values = base(user)
            values["user"] = ["userID": userID, "name": fields["name"] ?? ""]
            values["error"] = Strings.message(error, context.language)
            return renderer.page("admin-user", language: context.language, status: .badRequest, values: values)
        } catch let error as BizDirectError where error.kind == .locked {
            try await ra.sessions.end(token: user.session.token)
            throw error
        }
        var values = base(user)
        values["userID"] = userID
        values["heading"] = table["admin.done.\(fields["action"] ?? "")"] ?? ""
        values["tell"] = fields["action"] == "reissue"
        return renderer.page("admin-user-done", language: context.language, values: values)
    }

    private func authenticate(_ request: Request, context: BizDirectRequestContext) async throws -> (Authenticated, AdministratorActor) {
        let user = try await gate.complete(request, context: context)
        return (user, try await actor(user, request, context))
    }

    private func actor(_ user: Authenticated, _ request: Request, _ context: BizDirectRequestContext) async throws -> AdministratorActor {
        guard user.holder.role == .administrator else {
            try await gate.refuse("admin.only", "This page is for the contract's administrator.", request, context, by: user)
        }
        return AdministratorActor(holderID: user.holder.id, contractID: user.holder.scope, clientAddress: context.clientAddress,
                                  certificateSerial: user.presented.serial ?? "-")
    }

    private func base(_ user: Authenticated) -> [String: Any] {
        ["csrf": user.session.csrfToken, "contractID": user.holder.scope, "name": user.holder.name]
    }
}
