import BizDirectCore
import Foundation
import Hummingbird
import RegistrationAuthority

/// The branch console on the certificate-logon site: contracts, customer cards, the three
/// paper forms and their two-person approval, and staff. Staff sessions only.
struct BranchController {
    let ra: RegistrationAuthority
    let renderer: PageRenderer
    var gate: SessionGate { SessionGate(ra: ra) }

    func register(on router: Router<BizDirectRequestContext>) {
        router.get("/branch", use: home)
        router.get("/branch/contracts/new", use: newContract)
        router.post("/branch/contracts", use: createContract)
        router.get("/branch/contracts/:contract", use: showContract)
        router.post("/branch/contracts/:contract/requests", use: recordRequest)
        router.post("/branch/contracts/:contract/card-sent", use: markCardSent)
        router.post("/branch/requests/:request/decision", use: decide)
        router.get("/branch/staff/new", use: newStaff)
        router.post("/branch/staff", use: createStaff)
        router.get("/branch/staff", use: staffList)
        router.post("/branch/staff/:staff", use: changeStaff)
    }

    /// Search, and the requests waiting for a supervisor.
    func home(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let user = try await gate.complete(request, context: context)
        _ = try await gate.staffActor(user, request, context)
        let query = request.uri.queryParameters["q"].map(String.init) ?? ""
        var values = base(user)
        values["query"] = query
        values["pending"] = labelled(try await ra.branch.pendingRequests(), context.language)
        if !query.isEmpty {
            do {
                values["results"] = labelled(try await ra.branch.search(query), context.language)
                values["searched"] = true
            } catch let error as BizDirectError where error.kind == .malformed {
                values["queryError"] = message(error, context.language)
            }
        }
        return renderer.page("branch-home", language: context.language, values: values)
    }

    func newContract(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let user = try await gate.complete(request, context: context)
        _ = try await gate.staffActor(user, request, context)
        return renderer.page("branch-new-contract", language: context.language, values: base(user))
    }

    /// Records a new contract and its onboarding request.
    func createContract(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, fields) = try await gate.completeForm(request, context: context)
        let form = RecordOnboardingRequest(companyName: fields["company"] ?? "", branch: fields["branch"] ?? "",
                                           administratorName: fields["administrator"] ?? "")
        do {
            let made = try await ra.branch.recordOnboarding(form, by: try await gate.staffActor(user, request, context))
            return Response(status: .seeOther, headers: [.location: "/branch/contracts/\(made.contractID)"])
        } catch let error as BizDirectError where error.kind == .malformed {
            var values = base(user)
            values["error"] = message(error, context.language)
            values["form"] = fields
            return renderer.page("branch-new-contract", language: context.language, status: .badRequest, values: values)
        }
    }

    func showContract(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let user = try await gate.complete(request, context: context)
        _ = try await gate.staffActor(user, request, context)
        let view = try await ra.branch.view(contractID: try context.parameters.require("contract"))
        var values = base(user)
        values["contract"] = labelled([view.contract], context.language)[0]
        values["holders"] = view.holders.map(\.values)
        values["certificates"] = labelled(view.certificates.map(\.values), context.language)
        values["cards"] = labelled(view.cards.map(\.values), context.language)
        values["requests"] = view.requests.map { line -> [String: Any] in
            var entry: [String: Any] = labelled([line.values], context.language)[0]
            entry["history"] = line.history.map(\.values)
            return entry
        }
        values["audit"] = view.audit.map(\.values)
        values["active"] = view.contract["status"] == "active"
        return renderer.page("branch-contract", language: context.language, values: values)
    }

    func recordRequest(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, fields) = try await gate.completeForm(request, context: context)
        let contract = try context.parameters.require("contract")
        guard let kind = BranchRequestKind(rawValue: fields["kind"] ?? ""), kind != .onboarding else {
            throw BizDirectError.malformed("request.kind", "Choose a request type.")
        }
        _ = try await ra.branch.record(RecordBranchRequest(contractID: contract, kind: kind, lostCard: fields["lost"] == "yes"),
                                       by: try await gate.staffActor(user, request, context))
        return Response(status: .seeOther, headers: [.location: "/branch/contracts/\(contract)"])
    }

    func markCardSent(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, _) = try await gate.completeForm(request, context: context)
        let contract = try context.parameters.require("contract")
        try await ra.branch.markCardSent(contractID: try ContractID(parsing: contract).digits, by: try await gate.staffActor(user, request, context))
        return Response(status: .seeOther, headers: [.location: "/branch/contracts/\(contract)"])
    }

    /// Approves or rejects; an approval that makes a card shows it once, to print.
    func decide(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, fields) = try await gate.completeForm(request, context: context)
        guard let id = UUID(uuidString: try context.parameters.require("request")) else {
            throw BizDirectError.notFound("request.unknown", "This request does not exist.")
        }
        let approve = fields["decision"] == "approve"
        let card = try await ra.branch.decide(DecideBranchRequest(requestID: id, approve: approve), by: try await gate.staffActor(user, request, context))
        guard let card else { return Response(status: .seeOther, headers: [.location: "/branch"]) }
        return renderer.page("branch-card", language: context.language, values: CardPage.values(card, language: context.language, base: base(user)))
    }

    func newStaff(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let user = try await gate.complete(request, context: context)
        _ = try await gate.staffActor(user, request, context)
        return renderer.page("branch-staff-new", language: context.language, values: base(user))
    }

    func createStaff(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, fields) = try await gate.completeForm(request, context: context)
        let role = Role(rawValue: fields["role"] ?? "") ?? .clerk
        do {
            let member = try await ra.staff.addStaff(name: fields["name"] ?? "", role: role, pin: PIN(fields["pin"] ?? ""),
                                                     by: try await gate.staffActor(user, request, context))
            var values = base(user)
            values["heading"] = Strings.table(context.language)["branch.staffAdded"] ?? ""
            values["newStaffID"] = member.staffID
            values["code"] = member.acquisitionCode
            return renderer.page("branch-staff-added", language: context.language, values: values)
        } catch let error as BizDirectError where error.kind == .malformed {
            var values = base(user)
            values["error"] = message(error, context.language)
            return renderer.page("branch-staff-new", language: context.language, status: .badRequest, values: values)
        }
    }

    /// The staff list; supervisors also see unlock and re-issue for the others.
    func staffList(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let user = try await gate.complete(request, context: context)
        let actor = try await gate.staffActor(user, request, context)
        let table = Strings.table(context.language)
        var values = base(user)
        values["members"] = try await ra.staff.members().map { line -> [String: Any] in
            ["staffID": line.loginID, "name": line.name, "role": table["role.\(line.role.rawValue)"] ?? line.role.rawValue,
             "status": line.status, "statusName": table["user.status.\(line.status)"] ?? line.status, "serial": line.serial ?? "",
             "expiry": line.notAfter.map { PageRenderer.format($0, language: context.language) } ?? "",
             "manage": actor.role == .supervisor && line.loginID != actor.staffID, "locked": line.status == "locked"]
        }
        return renderer.page("branch-staff", language: context.language, values: values)
    }

    /// A supervisor unlocks another staff member, or re-issues their certificate (new one-time code, shown once).
    func changeStaff(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, fields) = try await gate.completeForm(request, context: context)
        let staffID = context.parameters.get("staff") ?? ""
        guard let change = StaffChange(rawValue: fields["action"] ?? "") else {
            throw BizDirectError.malformed("staff.action", "Choose unlock or re-issue.")
        }
        let code = try await ra.staff.change(staffID: staffID, change, by: try await gate.staffActor(user, request, context),
                                             certificates: ra.certificates)
        guard let code else { return Response(status: .seeOther, headers: [.location: "/branch/staff"]) }
        var values = base(user)
        values["heading"] = Strings.table(context.language)["branch.staffReissued"] ?? ""
        values["newStaffID"] = StaffService.staffID(staffID)
        values["code"] = code
        return renderer.page("branch-staff-added", language: context.language, values: values)
    }

    /// Adds localised names for the `kind` and `status` codes of each line.
    private func labelled(_ lines: [[String: String]], _ language: Language) -> [[String: String]] {
        let table = Strings.table(language)
        return lines.map { line in
            var line = line
            if let kind = line["kind"] { line["kindName"] = table["branch.kind.\(kind)"] ?? kind }
            if let status = line["status"] { line["statusName"] = table["status.\(status)"] ?? status }
            return line
        }
    }

    private func base(_ user: Authenticated) -> [String: Any] {
        ["csrf": user.session.csrfToken, "staffName": user.holder.name, "staffID": user.holder.loginID,
         "supervisor": user.holder.role == .supervisor]
    }

    private func message(_ error: BizDirectError, _ language: Language) -> String {
        Strings.message(error, language)
    }
}

/// The printable customer card and initial setup letter.
enum CardPage {
    static func values(_ card: PrintableCard, language: Language, base: [String: Any]) -> [String: Any] {
        var values = base
        values["contractID"] = card.contractID
        values["company"] = card.companyName
        values["administrator"] = card.administratorName
        values["cardNumber"] = card.cardNumber
        values["columns"] = (1...CardGrid.columns).map { ["n": $0] }
        values["rows"] = zip(CardGrid.rowLabels, card.grid.cells).map { label, cells in
            ["label": label, "cells": cells.map { ["v": $0] }] as [String: Any]
        }
        if let pin = card.initialContractPIN, let confirmation = card.initialConfirmationPIN {
            values["letter"] = ["pin": pin, "confirmation": confirmation,
                                "deadline": card.acquisitionDeadline.map { PageRenderer.format($0, language: language) } ?? ""]
        }
        return values
    }
}
