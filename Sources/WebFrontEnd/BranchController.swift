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
        let table = Strings.table(context.language)
        values["pending"] = try await ra.branch.pendingRequests().map { request -> [String: Any] in
            var entry: [String: Any] = labelled([request.values], context.language)[0]
            entry["staffRequest"] = request.values["contractID"]?.isEmpty ?? true
            entry["changes"] = request.changes.map { change in
                ["field": table["change.field.\(change.field)"] ?? change.field,
                 "from": Self.value(change.from, table), "to": Self.value(change.to, table)]
            }
            return entry
        }
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
        // The provisional PINs the customer wrote on the paper application: typed once, never shown again.
        let form = RecordOnboardingRequest(companyName: fields["company"] ?? "", branch: fields["branch"] ?? "",
                                           administratorName: fields["administrator"] ?? "", contractPIN: PIN(fields["contractPIN"] ?? ""),
                                           confirmationPIN: PIN(fields["confirmationPIN"] ?? ""))
        do {
            let made = try await ra.branch.recordOnboarding(form, by: try await gate.staffActor(user, request, context))
            return Response(status: .seeOther, headers: [.location: "/branch/contracts/\(made.contractID)"])
        } catch let error as BizDirectError where error.kind == .malformed {
            var values = base(user)
            values["error"] = message(error, context.language)
            values["form"] = fields.filter { !$0.key.lowercased().contains("pin") }
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

    /// Approves or refuses, confirmed with the supervisor's PIN. An approval that makes a card
    /// shows it once, to print; one that adds or re-issues for a staff member shows the
    /// approver's half of the one-time code once.
    func decide(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, fields) = try await gate.completeForm(request, context: context)
        guard let id = UUID(uuidString: try context.parameters.require("request")) else {
            throw BizDirectError.notFound("request.unknown", "This request does not exist.")
        }
        let decision = DecideBranchRequest(requestID: id, approve: fields["decision"] == "approve", pin: PIN(fields["pin"] ?? ""),
                                           reason: fields["reason"] ?? "")
        switch try await ra.branch.decide(decision, by: try await gate.staffActor(user, request, context)) {
        case .done:
            return Response(status: .seeOther, headers: [.location: "/branch"])
        case .card(let card):
            return renderer.page("branch-card", language: context.language, values: CardPage.values(card, language: context.language, base: base(user)))
        case .codeHalf(let staffID, let half):
            return codeHalfPage(user, context, staffID: staffID, half: half, which: "branch.codeHalfApprover")
        }
    }

    func newStaff(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let user = try await gate.complete(request, context: context)
        _ = try await gate.staffActor(user, request, context)
        return renderer.page("branch-staff-new", language: context.language, values: base(user))
    }

    /// Records a request to add a staff member; the recorder is shown their half of the code once.
    func createStaff(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, fields) = try await gate.completeForm(request, context: context)
        let role = Role(rawValue: fields["role"] ?? "") ?? .clerk
        do {
            let recorded = try await ra.branch.recordStaffRequest(.add(name: fields["name"] ?? "", role: role),
                                                                  by: try await gate.staffActor(user, request, context))
            return codeHalfPage(user, context, staffID: nil, half: recorded.codeHalf ?? "", which: "branch.codeHalfRecorder")
        } catch let error as BizDirectError where error.kind == .malformed {
            var values = base(user)
            values["error"] = message(error, context.language)
            return renderer.page("branch-staff-new", language: context.language, status: .badRequest, values: values)
        }
    }

    /// The staff list; supervisors also see the requests they may record for the others.
    func staffList(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let user = try await gate.complete(request, context: context)
        let actor = try await gate.staffActor(user, request, context)
        let table = Strings.table(context.language)
        var values = base(user)
        values["members"] = try await ra.staff.members().map { line -> [String: Any] in
            let active = line.status != "deactivated"
            let otherRole: Role = line.role == .supervisor ? .clerk : .supervisor
            return ["staffID": line.loginID, "name": line.name, "role": table["role.\(line.role.rawValue)"] ?? line.role.rawValue,
                    "status": line.status, "statusName": table["user.status.\(line.status)"] ?? line.status, "serial": line.serial ?? "",
                    "expiry": line.notAfter.map { PageRenderer.format($0, language: context.language) } ?? "",
                    "manage": actor.role == .supervisor && line.loginID != actor.staffID && active, "locked": line.status == "locked",
                    "otherRole": otherRole.rawValue, "otherRoleName": table["role.\(otherRole.rawValue)"] ?? otherRole.rawValue]
        }
        return renderer.page("branch-staff", language: context.language, values: values)
    }

    /// A supervisor records a request for another staff member (unlock, re-issue, role change,
    /// deactivation); a second supervisor approves it. A re-issue shows the recorder's half of the code once.
    func changeStaff(_ request: Request, context: BizDirectRequestContext) async throws -> Response {
        let (user, fields) = try await gate.completeForm(request, context: context)
        let staffID = context.parameters.get("staff") ?? ""
        guard let kind = BranchRequestKind(rawValue: fields["action"] ?? ""), BranchRequestKind.staffChanges.contains(kind) else {
            throw BizDirectError.malformed("staff.action", "Choose a request type.")
        }
        let recorded = try await ra.branch.recordStaffRequest(.change(kind, staffID: staffID, role: fields["role"].flatMap(Role.init(rawValue:))),
                                                              by: try await gate.staffActor(user, request, context))
        guard let half = recorded.codeHalf else { return Response(status: .seeOther, headers: [.location: "/branch"]) }
        return codeHalfPage(user, context, staffID: StaffService.staffID(staffID), half: half, which: "branch.codeHalfRecorder")
    }

    /// One half of a staff member's one-time code, shown once to the supervisor it belongs to.
    private func codeHalfPage(_ user: Authenticated, _ context: BizDirectRequestContext, staffID: String?, half: String, which: String) -> Response {
        let table = Strings.table(context.language)
        var values = base(user)
        values["heading"] = table["branch.codeHalfTitle"] ?? ""
        values["explanation"] = table[which] ?? ""
        values["newStaffID"] = staffID ?? (table["branch.staffIDAtApproval"] ?? "")
        values["code"] = half
        return renderer.page("branch-staff-added", language: context.language, values: values)
    }

    /// A value of the approval queue's diff, localised when it is a code (a role or a status).
    private static func value(_ code: String, _ table: [String: String]) -> String {
        table["role.\(code)"] ?? table["change.value.\(code)"] ?? code
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
        // A new contract's covering letter: the deadline, and no PIN (the customer chose the
        // provisional PINs on the application; the clerk who typed them never sees this page).
        if let deadline = card.acquisitionDeadline {
            values["letter"] = ["deadline": PageRenderer.format(deadline, language: language)]
        }
        return values
    }
}
