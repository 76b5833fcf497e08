import BizDirectCore
import Foundation
import RegistrationAuthority
import Testing
import TestSupport

/// The attacks on the logon rules, each tried over real mutual TLS against a live server. Each
/// of them worked on the code before the logon state machine (see docs/THREAT_MODEL.md).
@Suite("Logon attacks over mutual TLS")
struct LogonAttackTests {
    @Test("card bypass: re-posting the right PIN does not reset the counter or buy more card guesses")
    func cardBypass() async throws {
        let server = try await LiveServer.start { $0.attemptsPerAccountPerMinute = 100 }; defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        let credential = try await server.ra.acquireAdministrator(contract)
        let browser = try server.browser(credential); defer { Task { await browser.close() } }
        var locked = false
        for round in 0..<10 where !locked {
            let pinForm = try await browser.get(server.logonURL + "/logon")
            let afterPIN = try await browser.post(server.logonURL + "/logon/pin", form: ["csrf": pinForm.field("csrf") ?? "", "pin": contract.pin])
            if afterPIN.status == 423 { locked = true; break }
            #expect(afterPIN.status == 303, "round \(round)")
            let card = try await browser.get(server.logonURL + "/logon/card")
            var wrong = ["csrf": card.field("csrf") ?? ""]
            for cell in CustomerLogonTests.cells(in: card) { wrong["card_\(cell)"] = contract.answer(cell) == "00" ? "01" : "00" }
            let answer = try await browser.post(server.logonURL + "/logon/card", form: wrong)
            if answer.status == 423 { locked = true }
        }
        #expect(locked, "wrong card answers must lock, however often the right PIN is posted in between")
        let holder = try #require(try await server.ra.store.holder(id: credential.holderID))
        #expect(holder.lockedAt != nil && holder.failureCount == 6)
    }

    @Test("a card answer is refused in a session whose PIN step did not pass (no session, or a session past the card)")
    func cardWithoutPIN() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        let credential = try await server.ra.acquireAdministrator(contract)
        let browser = try server.browser(credential); defer { Task { await browser.close() } }
        _ = try await browser.get(server.logonURL + "/logon")
        let refused = try await browser.post(server.logonURL + "/logon/card", form: ["csrf": "x", "card_A1": "12"])
        #expect(refused.status == 401, "no session: the card cannot be answered")
        #expect(try await server.ra.store.holder(id: credential.holderID)?.failureCount == 0)
    }

    @Test("company lock through acquisition: failed anonymous acquisitions never lock the administrator's logon")
    func companyLockThroughAcquisition() async throws {
        let server = try await LiveServer.start { $0.attemptsPerMinute = 1_000; $0.attemptsPerAccountPerMinute = 1_000 }
        defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        let credential = try await server.ra.acquireAdministrator(contract)       // the window is now closed
        let attacker = try server.browser(nil); defer { Task { await attacker.close() } }
        let form = try await attacker.get(server.publicURL + "/acquire/user")
        let csr = Data(try CertificateFixtures.csr(key: CertificateFixtures.p256().1)).base64EncodedString()
        var answers: Set<String> = []
        for _ in 0..<12 {
            let reply = try await attacker.postJSON(server.publicURL + "/acquire/issue", [
                "kind": "administrator", "csrf": form.field("csrf") ?? "", "csr": csr, "contractID": contract.contractID,
                "pin": "wrong1x", "confirmationPIN": "wrong2x", "card": [String: String](),
            ])
            #expect(reply.status == 401)
            answers.insert(reply.body)
        }
        #expect(answers.count == 1, "one answer throughout: \(answers)")
        let holder = try #require(try await server.ra.store.holder(id: credential.holderID))
        #expect(holder.lockedAt == nil && holder.failureCount == 0, "the administrator's logon is untouched")
        let browser = try server.browser(credential); defer { Task { await browser.close() } }
        let pinForm = try await browser.get(server.logonURL + "/logon")
        #expect(try await browser.post(server.logonURL + "/logon/pin", form: ["csrf": pinForm.field("csrf") ?? "", "pin": contract.pin]).status == 303)
    }

    @Test("an open window closes after too many wrong acquisition attempts and says what to do; the logon is untouched")
    func windowClosesAtLimit() async throws {
        let server = try await LiveServer.start { $0.lockoutLimit = 3 }; defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        try await server.ra.registerUser(contract, userID: "taro01")
        var reasons: [String] = []
        for _ in 0..<4 {
            do {
                _ = try await server.ra.acquireCredential(.user(contractID: contract.contractID, userID: "taro01"), pin: "wrong1x", confirmationPIN: "wrong2x")
            } catch let error as BizDirectError { reasons.append(error.reason) }
        }
        #expect(reasons == ["acquisition.refused", "acquisition.refused", "acquisition.tooManyFailures", "acquisition.refused"])
        let user = try #require(try await server.ra.store.holder(scope: contract.contractID, loginID: "taro01"))
        #expect(user.acquisitionOpenUntil == nil && user.failureCount == 0 && user.lockedAt == nil)
        #expect(try await server.ra.store.recentAuditEvents(limit: 10).contains { $0.action == "acquisition.windowClosed" })
    }

    @Test("right PINs with no window open get the same answer over HTTPS as wrong ones (no PIN oracle)")
    func noPINOracle() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        try await server.ra.registerUser(contract, userID: "taro01")
        _ = try await server.ra.acquireCredential(.user(contractID: contract.contractID, userID: "taro01"), pin: "user1pin", confirmationPIN: "conf1pin")
        let attacker = try server.browser(nil); defer { Task { await attacker.close() } }
        let form = try await attacker.get(server.publicURL + "/acquire/user")
        let csr = Data(try CertificateFixtures.csr(key: CertificateFixtures.p256().1)).base64EncodedString()
        var answers: Set<String> = []
        for pins in [("user1pin", "conf1pin"), ("wrong1x", "wrong2x")] {
            let reply = try await attacker.postJSON(server.publicURL + "/acquire/issue", [
                "kind": "user", "csrf": form.field("csrf") ?? "", "csr": csr, "contractID": contract.contractID, "userID": "taro01",
                "pin": pins.0, "confirmationPIN": pins.1,
            ])
            answers.insert("\(reply.status) \(reply.body)")
        }
        #expect(answers.count == 1, "\(answers)")
    }

    @Test("a right card answer with wrong PINs does not consume the acquisition challenge (it would tell the card was right)")
    func cardNotConsumedByWrongPINs() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        let cells = try await server.ra.cards.challenge(contractID: contract.contractID)
        await #expect(throws: BizDirectError.unauthenticated("acquisition.refused", "")) {
            _ = try await server.ra.acquireCredential(.administrator(contractID: contract.contractID, cardAnswers: contract.answers(cells)),
                                                      pin: "wrong1x", confirmationPIN: "wrong2x")
        }
        #expect(try await server.ra.cards.challenge(contractID: contract.contractID) == cells)
    }

    @Test("the limiter cannot be sidestepped with slashes, case or percent-encoding", arguments: [
        "/logon/pin", "/logon/pin/", "/logon//pin", "//logon/pin", "/Logon/pin", "/logon/%70in", "/logon/pin?x=1",
    ])
    func limiterSpellings(_ path: String) async throws {
        let server = try await LiveServer.start { $0.attemptsPerMinute = 3 }; defer { Task { await server.stop() } }
        let browser = try server.browser(try await server.ra.enrolStaff()); defer { Task { await browser.close() } }
        var statuses: [Int] = []
        for _ in 0..<5 {
            // Every spelling reaches the same handler through the same limiter, or no handler at all.
            statuses.append(try await browser.post(server.logonURL + path, body: "csrf=x&pin=wrong999").status)
        }
        #expect(statuses.allSatisfy { $0 == 404 } || statuses.suffix(2) == [423, 423], "\(path): \(statuses)")
    }

    @Test("a user already logged on is logged off by the administrator's lock, and the page says why")
    func sessionSurvivesLock() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        try await server.ra.registerUser(contract, userID: "taro01")
        let user = try await server.ra.acquireCredential(.user(contractID: contract.contractID, userID: "taro01"), pin: "user1pin", confirmationPIN: "conf1pin")
        let browser = try await Self.logOnUser(server, user, pin: "user1pin")
        defer { Task { await browser.close() } }
        #expect(try await browser.get(server.logonURL + "/home").status == 200)
        let admin = try #require(try await server.ra.store.holder(scope: contract.contractID, loginID: "admin"))
        for _ in 0..<6 {
            try? await server.ra.logon.verifyPIN(holderID: try admin.requireID(), pin: PIN("wrong1x"), clientAddress: "-", certificateSerial: "-")
        }
        let after = try await browser.get(server.logonURL + "/home", headers: [("Accept-Language", "en")])
        #expect(after.status == 423 && after.body.contains("locked"), "\(after.status)")
    }

    @Test("a PIN change ends the holder's other sessions; the session that changed it goes on")
    func sessionSurvivesPINChange() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        try await server.ra.registerUser(contract, userID: "taro01")
        let user = try await server.ra.acquireCredential(.user(contractID: contract.contractID, userID: "taro01"), pin: "user1pin", confirmationPIN: "conf1pin")
        let first = try await Self.logOnUser(server, user, pin: "user1pin")
        let second = try await Self.logOnUser(server, user, pin: "new1pin")
        defer { Task { await first.close(); await second.close() } }
        let pins = try await second.get(server.logonURL + "/pins")
        let changed = try await second.post(server.logonURL + "/pins", form: ["csrf": pins.field("csrf") ?? "", "current": "new1pin",
                                                                            "pin": "new2pin", "confirmation": "conf3pin"])
        #expect(changed.status == 200, "\(changed.status)")
        #expect(try await second.get(server.logonURL + "/home").status == 200)
        let ended = try await first.get(server.logonURL + "/home", headers: [("Accept-Language", "en")])
        #expect(ended.status == 401 && ended.body.contains("PIN was changed"), "\(ended.status)")
    }

    @Test("GET /logon stores no session; sessions are purged when they expire or end")
    func lazySessionsAndPurge() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let credential = try await server.ra.enrolStaff()
        let browser = try server.browser(credential); defer { Task { await browser.close() } }
        for _ in 0..<5 { _ = try await browser.get(server.logonURL + "/logon") }
        #expect(try await server.ra.sessions.count() == 0)
        let form = try await browser.get(server.logonURL + "/logon")
        _ = try await browser.post(server.logonURL + "/logon/pin", form: ["csrf": form.field("csrf") ?? "", "pin": "abc123"])
        #expect(try await server.ra.sessions.count() == 1)
        #expect(try await server.ra.sessions.purge(longestIdleTimeout: 1800) == 0, "a live session stays")
        server.clock.advance(by: 3600)
        #expect(try await server.ra.sessions.purge(longestIdleTimeout: 1800) == 1)
        #expect(try await server.ra.sessions.count() == 0)
    }

    @Test("the administrator sees who is logged on and can end a user's sessions (ASVS 7.4.5)")
    func administratorEndsSessions() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        try await server.ra.registerUser(contract, userID: "taro01")
        let user = try await server.ra.acquireCredential(.user(contractID: contract.contractID, userID: "taro01"), pin: "user1pin", confirmationPIN: "conf1pin")
        let browser = try await Self.logOnUser(server, user, pin: "user1pin"); defer { Task { await browser.close() } }
        let administrator = try await server.ra.administrator(of: contract)
        #expect(try await server.ra.administrators.users(administrator).first { $0.loginID == "taro01" }?.loggedOn == true)
        try await server.ra.administrators.change(userID: "taro01", .endSessions, by: administrator, confirmationPIN: PIN(contract.confirmationPIN),
                                                  certificates: server.ra.certificates)
        #expect(try await server.ra.administrators.users(administrator).first { $0.loginID == "taro01" }?.loggedOn == false)
        let ended = try await browser.get(server.logonURL + "/home", headers: [("Accept-Language", "en")])
        #expect(ended.status == 401 && ended.body.contains("administrator ended your session"), "\(ended.status)")
        #expect(try await server.ra.store.recentAuditEvents(limit: 5).contains { $0.action == "user.endSessions" && $0.outcome == "allowed" })
    }

    @Test("forms that carry secrets post to an action; without their script they refuse and never put secrets in a URL")
    func formsPostSecrets() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let browser = try server.browser(nil); defer { Task { await browser.close() } }
        for kind in ["user", "staff"] {
            let page = try await browser.get(server.publicURL + "/acquire/\(kind)")
            let form = try #require(page.body.components(separatedBy: "<form").dropFirst().first)
            #expect(form.contains("method=\"post\"") && form.contains("action=\"/acquire/needs-script\""), "\(kind)")
        }
        let refused = try await browser.post(server.publicURL + "/acquire/needs-script", form: ["pin": "user1pin", "p12password": "secret12"])
        #expect(refused.status == 400 && refused.body.contains("JavaScript") && !refused.body.contains("user1pin"))
        for template in ["acquire", "renew", "pin", "card", "change-pin", "admin-user", "admin-user-new", "acquire-contract"] {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../Sources/WebFrontEnd/Resources/templates/\(template).mustache").standardized
            let text = try String(contentsOf: url, encoding: .utf8)
            for form in text.components(separatedBy: "<form").dropFirst() {
                let tag = form.prefix { $0 != ">" }
                #expect(tag.contains("method=\"post\"") && tag.contains("action="), "\(template): <form\(tag)>")
            }
        }
    }

    /// A user's whole logon: certificate, PIN, and the forced change the first time (to new1pin).
    static func logOnUser(_ server: LiveServer, _ credential: Credential, pin: String) async throws -> TestBrowser {
        let browser = try server.browser(credential)
        let form = try await browser.get(server.logonURL + "/logon")
        let afterPIN = try await browser.post(server.logonURL + "/logon/pin", form: ["csrf": form.field("csrf") ?? "", "pin": pin])
        if afterPIN.headers["Location"].first == "/logon/change-pin" {
            let change = try await browser.get(server.logonURL + "/logon/change-pin")
            _ = try await browser.post(server.logonURL + "/logon/change-pin", form: ["csrf": change.field("csrf") ?? "", "pin": "new1pin",
                                                                                  "confirmation": "conf2pin"])
        }
        return browser
    }
}
