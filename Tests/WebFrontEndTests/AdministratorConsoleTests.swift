import BizDirectCore
import Foundation
import RegistrationAuthority
import Testing
import TestSupport

/// The administrator's console over real mutual TLS.
@Suite("Administrator console over mutual TLS")
struct AdministratorConsoleTests {
    /// An administrator logged on (PIN, card, new PINs) in a browser holding their certificate.
    static func administrator(_ server: LiveServer, _ contract: OnboardedContract) async throws -> TestBrowser {
        let browser = try server.browser(try await server.ra.acquireAdministrator(contract))
        let form = try await browser.get(server.logonURL + "/logon?as=administrator")
        _ = try await browser.post(server.logonURL + "/logon/pin", form: ["csrf": form.field("csrf") ?? "", "pin": contract.pin])
        let card = try await browser.get(server.logonURL + "/logon/card")
        var answers = ["csrf": card.field("csrf") ?? ""]
        for cell in CustomerLogonTests.cells(in: card) { answers["card_\(cell)"] = contract.answer(cell) }
        _ = try await browser.post(server.logonURL + "/logon/card", form: answers)
        let change = try await browser.get(server.logonURL + "/logon/change-pin")
        let done = try await browser.post(server.logonURL + "/logon/change-pin", form: ["csrf": change.field("csrf") ?? "", "pin": "kanri123", "confirmation": "kakunin45"])
        #expect(done.headers["Location"].first == "/home")
        return browser
    }

    @Test("register, re-issue, unlock and delete users, each confirmed; bad input is refused next to the field")
    func operations() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        let other = try await server.ra.onboardContract(company: "別会社")
        try await server.ra.registerUser(other, userID: "stranger")
        let browser = try await Self.administrator(server, contract)
        let en = [("Accept-Language", "en")]
        func register(_ fields: [String: String]) async throws -> TestBrowser.Page {
            let form = try await browser.get(server.logonURL + "/admin/users/new", headers: en)
            var body = ["csrf": form.field("csrf") ?? "", "userID": "taro01", "name": "Taro", "pin": "user1pin", "confirmation": "conf1pin",
                        "contractConfirmation": "kakunin45"]
            body.merge(fields) { _, new in new }
            return try await browser.post(server.logonURL + "/admin/users", form: body)
        }
        #expect(try await register([:]).body.contains("id=\"registered-user-id\">taro01<"))
        let duplicate = try await register([:])
        #expect(duplicate.status == 400 && duplicate.body.contains("form-error"))
        #expect(try await register(["userID": "ab"]).status == 400)
        #expect(try await register(["userID": "hana02", "pin": "short"]).status == 400)
        let wrong = try await register(["userID": "hana02", "contractConfirmation": "wrong999"])
        #expect(wrong.status == 400)
        let admin = try #require(try await server.ra.store.holder(scope: contract.contractID, loginID: "admin"))
        #expect(admin.failureCount == 1, "a wrong confirmation PIN counts towards the lock")

        let list = try await browser.get(server.logonURL + "/admin")
        #expect(list.body.contains("data-user=\"taro01\"") && list.body.contains("data-status=\"awaitingAcquisition\""))
        let user = try await server.ra.acquireCredential(.user(contractID: contract.contractID, userID: "taro01"), pin: "user1pin", confirmationPIN: "conf1pin")
        func change(_ user: String, _ action: String) async throws -> TestBrowser.Page {
            let form = try await browser.get(server.logonURL + "/admin/users/new")   // any page carrying the session's CSRF token
            return try await browser.post(server.logonURL + "/admin/users/\(user)",
                                          form: ["csrf": form.field("csrf") ?? "", "action": action, "contractConfirmation": "kakunin45"])
        }
        let reissued = try await change("taro01", "reissue")
        #expect(reissued.body.contains("id=\"registered-user-id\">taro01<"), "the page shows the user ID to pass on")
        #expect(try await server.ra.store.certificate(serial: user.serial)?.status == "revoked")
        #expect(try await change("taro01", "unlock").status == 200)
        let stranger = try await change("stranger", "unlock")
        #expect(stranger.status == 404, "another contract's user is refused: \(stranger.status) \(stranger.body.prefix(600))")
        #expect(try await change("taro01", "delete").status == 200)
        #expect(!(try await browser.get(server.logonURL + "/admin").body.contains("data-user=\"taro01\"")))
        let events = try await browser.get(server.logonURL + "/admin")
        #expect(events.body.contains("user.reissue") && events.body.contains("user.delete"))
        await browser.close()
    }
}
