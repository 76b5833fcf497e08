import BizDirectCore
import Foundation
import RegistrationAuthority
import Testing
import TestSupport

/// The branch console over real mutual TLS: two staff members, two certificates.
@Suite("Branch console over mutual TLS")
struct BranchConsoleTests {
    @Test("a clerk records a contract, a supervisor approves it and sees the card once; the clerk cannot approve")
    func onboardingInTheConsole() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let clerk = try await LogonSiteTests.logOn(server, try await server.ra.enrolStaff(name: "Clerk Kato", role: .clerk))
        let supervisor = try await LogonSiteTests.logOn(server, try await server.ra.enrolStaff(name: "Boss Ito", role: .supervisor))
        let english = [("Accept-Language", "en")]

        let form = try await clerk.get(server.logonURL + "/branch/contracts/new", headers: english)
        let created = try await clerk.post(server.logonURL + "/branch/contracts",
                                           form: ["csrf": form.field("csrf") ?? "", "company": "山田商事", "branch": "本店", "administrator": "山田太郎",
                                                  "contractPIN": "kari1pin", "confirmationPIN": "kari2pin"])
        #expect(created.status == 303)
        let location = try #require(created.headers["Location"].first)
        let contractID = String(location.split(separator: "/").last!)
        #expect(try ContractID(parsing: contractID).digits == contractID)

        let home = try await clerk.get(server.logonURL + "/branch", headers: english)
        let requestID = try #require(home.body.range(of: "data-request=\"").map { String(home.body[$0.upperBound...].prefix(36)) })
        let refused = try await clerk.post(server.logonURL + "/branch/requests/\(requestID)/decision",
                                           form: ["csrf": home.field("csrf") ?? "", "decision": "approve"])
        #expect(refused.status == 403)

        let supervisorHome = try await supervisor.get(server.logonURL + "/branch", headers: english)
        let clerkID = try await server.ra.store.holders(scope: "bank").first { $0.name == "Clerk Kato" }?.loginID ?? "?"
        #expect(supervisorHome.body.contains("<td class=\"recorded-by\">\(clerkID) "), "the queue shows who recorded the request")
        #expect(supervisorHome.body.contains("class=\"diff\"") && supervisorHome.body.contains("Status"), "and what approval changes")
        let wrongPIN = try await supervisor.post(server.logonURL + "/branch/requests/\(requestID)/decision",
                                                 form: ["csrf": supervisorHome.field("csrf") ?? "", "decision": "approve", "pin": "wrong123"])
        #expect(wrongPIN.status == 401, "the approver confirms with their own PIN")
        let card = try await supervisor.post(server.logonURL + "/branch/requests/\(requestID)/decision",
                                             form: ["csrf": supervisorHome.field("csrf") ?? "", "decision": "approve", "pin": "abc123"])
        #expect(card.status == 200 && card.body.contains("id=\"card-grid\""))
        #expect(!card.body.contains("kari1pin") && !card.body.contains("kari2pin") && !card.body.contains("initial-pin"),
                "the approver sees the card, never the PINs")
        #expect(card.headers["Cache-Control"].first == "no-store")
        let pin = "kari1pin"

        let view = try await supervisor.get(server.logonURL + "/branch/contracts/\(contractID)")
        #expect(view.body.contains("data-status=\"active\""))
        #expect(!view.body.contains(pin) && !view.body.contains("card-grid"), "the card and PINs are never shown again")

        var typo = Array(contractID)
        typo[4] = typo[4] == "7" ? "8" : "7"          // one wrong digit: the check digit catches it
        let search = try await clerk.get(server.logonURL + "/branch?q=\(String(typo))", headers: english)
        #expect(search.body.contains("id=\"q-error\"") && search.body.contains("check digit"), "a typo is refused next to the field")
        #expect(try await clerk.get(server.logonURL + "/branch?q=\(contractID)").body.contains("/branch/contracts/\(contractID)"))
        let byName = try await clerk.get(server.logonURL + "/branch?q=%E5%B1%B1%E7%94%B0")
        #expect(byName.body.contains(contractID))
        await clerk.close(); await supervisor.close()
    }

    @Test("customers cannot open the branch console")
    func customersRefused() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let holder = try await server.ra.store.insertHolder(role: .user, scope: "12345678903", loginID: "taro01", name: "Taro",
                                                            pinHash: nil, at: Date())
        let credential = try await server.ra.issueCredential(holderID: try holder.requireID())
        let browser = try server.browser(credential)
        let page = try await browser.get(server.logonURL + "/branch")
        #expect(page.status == 401, "no completed staff session")
        await browser.close()

        // A customer administrator who has logged on completely is still refused, and the refusal is audited.
        let contract = try await server.ra.onboardContract()
        let administrator = try await AdministratorConsoleTests.administrator(server, contract)
        let refused = try await administrator.get(server.logonURL + "/branch", headers: [("Accept-Language", "en")])
        #expect(refused.status == 403 && refused.body.contains("for bank staff"), "\(refused.body)")
        let event = try #require(try await server.ra.store.recentAuditEvents(limit: 1).first)
        #expect(event.action == "web.request" && event.target == "/branch" && event.outcome == "denied:branch.staffOnly"
                && event.actor == "admin:\(contract.contractID)")
        await administrator.close()
    }

    @Test("the staff list: one supervisor records an unlock and a re-issue, another approves each with their PIN; the clerk sees no actions")
    func staffList() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let supervisor = try await server.ra.enrolStaff(name: "Boss", role: .supervisor)
        let deputy = try await server.ra.enrolStaff(name: "Deputy", role: .supervisor)
        let clerk = try await server.ra.enrolStaff(name: "Clerk", role: .clerk)
        let clerkID = try #require(try await server.ra.store.holder(id: clerk.holderID)).loginID
        for _ in 0..<6 {
            _ = try? await server.ra.logon.verifyPIN(holderID: clerk.holderID, pin: PIN("wrong999"), clientAddress: "-", certificateSerial: clerk.serial)
        }
        let browser = try await LogonSiteTests.logOn(server, supervisor)
        let approver = try await LogonSiteTests.logOn(server, deputy)
        let en = [("Accept-Language", "en")]
        var list = try await browser.get(server.logonURL + "/branch/staff", headers: en)
        #expect(list.status == 200 && list.body.contains("data-staff=\"\(clerkID)\"") && list.body.contains("data-status=\"locked\""))
        #expect(list.body.contains("data-action=\"unlock\"") && list.body.contains("data-action=\"deactivate\""))
        let csrf = try #require(list.field("csrf"))
        let recorded = try await browser.post(server.logonURL + "/branch/staff/\(clerkID)", form: ["csrf": csrf, "action": "staffUnlock"])
        #expect(recorded.status == 303)
        list = try await browser.get(server.logonURL + "/branch/staff", headers: en)
        #expect(list.body.contains("data-status=\"locked\""), "recording alone unlocks nothing")
        func decideFirst(_ pin: String = "abc123") async throws -> TestBrowser.Page {
            let home = try await approver.get(server.logonURL + "/branch", headers: en)
            let requestID = try #require(home.body.range(of: "data-request=\"").map { String(home.body[$0.upperBound...].prefix(36)) })
            return try await approver.post(server.logonURL + "/branch/requests/\(requestID)/decision",
                                           form: ["csrf": home.field("csrf") ?? "", "decision": "approve", "pin": pin])
        }
        #expect(try await decideFirst().status == 303)
        list = try await browser.get(server.logonURL + "/branch/staff", headers: en)
        #expect(!list.body.contains("data-status=\"locked\""), "the clerk is active again")

        let reissued = try await browser.post(server.logonURL + "/branch/staff/\(clerkID)", form: ["csrf": csrf, "action": "staffReissue"])
        #expect(reissued.status == 200 && reissued.body.contains("id=\"acquisition-code\""))
        #expect(try await server.ra.store.certificate(serial: clerk.serial)?.status == "active", "nothing is revoked before approval")
        let firstHalf = try #require(Self.code(in: reissued.body))
        let approved = try await decideFirst()
        let secondHalf = try #require(Self.code(in: approved.body))
        #expect(approved.status == 200 && firstHalf.count == 9 && secondHalf.count == 9 && firstHalf != secondHalf)
        #expect(try await server.ra.store.certificate(serial: clerk.serial)?.status == "revoked")
        let forged = try await browser.post(server.logonURL + "/branch/staff/\(clerkID)", form: ["csrf": "forged", "action": "staffUnlock"])
        #expect(forged.status == 403)
        await browser.close(); await approver.close()

        let clerkAgain = try await server.ra.acquireCredential(.staff(code: "\(firstHalf)-\(secondHalf)"), pin: "clerk2pin", confirmationPIN: "clerk2pin")
        let clerkBrowser = try await LogonSiteTests.logOn(server, clerkAgain, pin: "clerk2pin")
        let clerkView = try await clerkBrowser.get(server.logonURL + "/branch/staff")
        #expect(clerkView.status == 200 && !clerkView.body.contains("data-action="), "clerks see the list without actions")
        await clerkBrowser.close()
    }

    /// The code half a page shows once (`id="acquisition-code"`).
    static func code(in body: String) -> String? {
        body.range(of: "id=\"acquisition-code\">").map { String(body[$0.upperBound...].prefix { $0 != "<" }) }
    }

    @Test("bank staff cannot open a customer's administrator console")
    func staffRefusedFromAdministratorConsole() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let staff = try await server.ra.enrolStaff(role: .supervisor)
        let browser = try await LogonSiteTests.logOn(server, staff)
        let refused = try await browser.get(server.logonURL + "/admin")
        #expect(refused.status == 403)
        let event = try #require(try await server.ra.store.recentAuditEvents(limit: 1).first)
        #expect(event.target == "/admin" && event.outcome == "denied:admin.only" && event.certificateSerial == staff.serial)
        await browser.close()
    }
}
