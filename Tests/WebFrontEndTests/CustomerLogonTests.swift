import BizDirectCore
import Foundation
import RegistrationAuthority
import Testing
import TestSupport

/// Administrator and user logon over real mutual TLS: certificate, PIN, card, forced PIN change.
@Suite("Customer logon over mutual TLS")
struct CustomerLogonTests {
    static func cells(in page: TestBrowser.Page) -> [String] {
        page.body.components(separatedBy: "data-cell=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }

    @Test("an administrator logs on with certificate, initial PIN and card, sets new PINs and reaches home")
    func administratorFirstLogon() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        let credential = try await server.ra.acquireAdministrator(contract)
        let certificate = try #require(try await server.ra.store.certificate(serial: credential.serial))
        #expect(String(decoding: certificate.der, as: UTF8.self).contains(contract.contractID + "1635"), "CN = contract ID + bank code")
        let browser = try server.browser(credential)
        let pinForm = try await browser.get(server.logonURL + "/logon?as=administrator", headers: [("Accept-Language", "en")])
        #expect(pinForm.body.contains("Contract PIN"))
        let afterPIN = try await browser.post(server.logonURL + "/logon/pin", form: ["csrf": pinForm.field("csrf") ?? "", "pin": contract.pin])
        #expect(afterPIN.status == 303 && afterPIN.headers["Location"].first == "/logon/card")

        let cardPage = try await browser.get(server.logonURL + "/logon/card")
        let cells = Self.cells(in: cardPage)
        #expect(cells.count == 4)
        #expect(Self.cells(in: try await browser.get(server.logonURL + "/logon/card")) == cells, "reloading cannot shop for cells")
        var wrong = ["csrf": cardPage.field("csrf") ?? ""]
        for cell in cells { wrong["card_\(cell)"] = contract.answer(cell) == "00" ? "01" : "00" }
        let refused = try await browser.post(server.logonURL + "/logon/card", form: wrong)
        #expect(refused.status == 401 && refused.body.contains("card-error"))
        #expect(try await server.ra.store.holder(id: credential.holderID)?.failureCount == 1)
        #expect(Self.cells(in: refused) == cells, "a wrong answer keeps the same challenge")

        var right = ["csrf": cardPage.field("csrf") ?? ""]
        for cell in cells { right["card_\(cell)"] = String(contract.answer(cell).map { Character(Unicode.Scalar($0.unicodeScalars.first!.value + 0xFEE0)!) }) }
        let afterCard = try await browser.post(server.logonURL + "/logon/card", form: right)
        #expect(afterCard.status == 303 && afterCard.headers["Location"].first == "/logon/change-pin", "full-width digits accepted")

        let change = try await browser.get(server.logonURL + "/logon/change-pin")
        let same = try await browser.post(server.logonURL + "/logon/change-pin", form: ["csrf": change.field("csrf") ?? "", "pin": "new1pin", "confirmation": "new1pin"])
        #expect(same.status == 400 && same.body.contains("pin-error"))
        let done = try await browser.post(server.logonURL + "/logon/change-pin", form: ["csrf": change.field("csrf") ?? "", "pin": "new1pin", "confirmation": "conf2pin"])
        #expect(done.status == 303 && done.headers["Location"].first == "/home")
        let home = try await browser.get(server.logonURL + "/home")
        #expect(home.status == 200 && home.body.contains(credential.serial))
        #expect(try await server.ra.store.holder(id: credential.holderID)?.failureCount == 0, "success resets the counter")
        await browser.close()
    }

    @Test("a user registered by the administrator acquires, logs on, and must change the PINs the administrator set")
    func userLogon() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        try await server.ra.registerUser(contract, userID: "taro01", name: "山田花子")
        let credential = try await server.ra.acquireCredential(.user(contractID: contract.contractID, userID: "ｔａｒｏ０１"), pin: "user1pin", confirmationPIN: "conf1pin")
        let browser = try server.browser(credential)
        let wrongEntry = try await browser.get(server.logonURL + "/logon?as=administrator", headers: [("Accept-Language", "en")])
        #expect(wrongEntry.status == 403 && wrongEntry.body.contains("data-problem=\"wrongCertificate\"") && wrongEntry.body.contains("start the browser again"))
        let form = try await browser.get(server.logonURL + "/logon?as=user")
        let afterPIN = try await browser.post(server.logonURL + "/logon/pin", form: ["csrf": form.field("csrf") ?? "", "pin": "user1pin"])
        #expect(afterPIN.headers["Location"].first == "/logon/change-pin")
        let change = try await browser.get(server.logonURL + "/logon/change-pin")
        _ = try await browser.post(server.logonURL + "/logon/change-pin", form: ["csrf": change.field("csrf") ?? "", "pin": "mine1pin", "confirmation": "mine2pin"])
        let home = try await browser.get(server.logonURL + "/home")
        #expect(home.status == 200 && home.body.contains("山田花子"))
        await browser.close()
    }

    @Test("an administrator's lock locks the users too: they can neither log on nor acquire (acquisition does not say why)")
    func administratorLockLocksUsers() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        try await server.ra.registerUser(contract, userID: "hana02", name: "Hana")
        let admin = try #require(try await server.ra.store.holder(scope: contract.contractID, loginID: "admin"))
        for _ in 0..<6 {
            try? await server.ra.logon.verifyPIN(holderID: try admin.requireID(), pin: PIN("wrong1x"), clientAddress: "-", certificateSerial: "-")
        }
        await #expect(throws: BizDirectError.unauthenticated("acquisition.refused", "")) {
            _ = try await server.ra.acquireCredential(.user(contractID: contract.contractID, userID: "hana02"), pin: "user1pin", confirmationPIN: "conf1pin")
        }
        let hana = try #require(try await server.ra.store.holder(scope: contract.contractID, loginID: "hana02"))
        await #expect(throws: BizDirectError.locked("service.locked", "")) {
            try await server.ra.logon.verifyPIN(holderID: try hana.requireID(), pin: PIN("user1pin"), clientAddress: "-", certificateSerial: "-")
        }
    }

    @Test("acquisition: one per window, and an unknown contract answers like a wrong PIN")
    func acquisitionRules() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        _ = try await server.ra.acquireAdministrator(contract)
        await #expect(throws: BizDirectError.unauthenticated("acquisition.refused", "")) { _ = try await server.ra.acquireAdministrator(contract) }
        let unknown = try ContractID(body: "1000000001").digits
        await #expect(throws: BizDirectError.unauthenticated("acquisition.refused", "")) {
            _ = try await server.ra.acquireCredential(.user(contractID: unknown, userID: "nobody1"), pin: "user1pin", confirmationPIN: "conf1pin")
        }
    }

    @Test("50 parallel wrong PINs against a limit of 6 record exactly 6 failures and lock once")
    func parallelWrongPINs() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let credential = try await server.ra.enrolStaff()
        let ra = server.ra
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask { try? await ra.logon.verifyPIN(holderID: credential.holderID, pin: PIN("wrong99"), clientAddress: "-", certificateSerial: "-") }
            }
        }
        #expect(try await ra.store.holder(id: credential.holderID)?.failureCount == 6)
        let events = try await ra.store.recentAuditEvents(limit: 200)
        #expect(events.filter { $0.action == "holder.lock" }.count == 1)
        #expect(events.filter { $0.action == "logon.pin" && $0.outcome == "denied:pin.wrong" }.count == 6)
    }

    @Test("a browser that no longer offers its expired certificate is told it expired, from the certificate it last logged on with")
    func rememberedExpiry() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let credential = try await server.ra.enrolStaff()
        let browser = try await LogonSiteTests.logOn(server, credential)
        let remembered = try #require(browser.cookies["__Host-bizdirect_certificate"])
        server.clock.advance(by: 366 * 86_400)
        let none = try server.browser()          // the browser no longer sends the expired certificate
        none.cookies["__Host-bizdirect_certificate"] = remembered
        let page = try await none.get(server.logonURL + "/logon", headers: [("Accept-Language", "en")])
        #expect(page.body.contains("data-problem=\"expired\"") && page.body.contains("expired on"))
        none.cookies["__Host-bizdirect_certificate"] = String(repeating: "0", count: 64)
        #expect(try await none.get(server.logonURL + "/logon").body.contains("data-problem=\"none\""))
        await browser.close(); await none.close()
    }

    @Test("a renewed certificate supersedes the old one at its first logon; renewal is refused after expiry")
    func renewal() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let old = try await server.ra.enrolStaff(pin: "abc123")
        let notAfter = try #require(try await server.ra.store.certificate(serial: old.serial)).notAfter
        #expect(!server.ra.logon.renewalOpen(notAfter: notAfter))
        server.clock.advance(by: notAfter.timeIntervalSince(server.clock.now()) - 30 * 86_400)
        #expect(server.ra.logon.renewalOpen(notAfter: notAfter))
        let browser = try await LogonSiteTests.logOn(server, old)
        #expect(try await browser.get(server.logonURL + "/home").body.contains("id=\"renewal-notice\""))
        let key = CertificateFixtures.p256()
        let renewed = try await server.ra.logon.renew(holderID: old.holderID, presentedSerial: old.serial, pin: PIN("abc123"),
                                                      csr: try CertificateFixtures.csr(key: key.1), certificates: server.ra.certificates, clientAddress: "-")
        #expect(try await server.ra.store.certificate(serial: old.serial)?.status == "active", "the old one stays until the new one is used")
        let newCredential = Credential(holderID: old.holderID, certificateDER: renewed.der, serial: renewed.serialHex, keyPEM: key.0.pemRepresentation)
        let newBrowser = try await LogonSiteTests.logOn(server, newCredential)
        #expect(try await server.ra.store.certificate(serial: old.serial)?.status == "revoked")
        let oldBrowser = try server.browser(old)
        let superseded = try await oldBrowser.get(server.logonURL + "/logon")
        await oldBrowser.close()
        #expect(superseded.body.contains("data-problem=\"revoked\""))
        server.clock.advance(by: 400 * 86_400)
        await #expect(throws: BizDirectError.forbidden("renewal.expired", "")) {
            _ = try await server.ra.logon.renew(holderID: old.holderID, presentedSerial: renewed.serialHex, pin: PIN("abc123"),
                                                csr: try CertificateFixtures.csr(key: CertificateFixtures.p256().1), certificates: server.ra.certificates, clientAddress: "-")
        }
        #expect(try await server.ra.store.recentAuditEvents(limit: 1).first.map { ($0.action, $0.outcome) } ?? ("", "") == ("renewal", "denied:renewal.expired"))
        await browser.close(); await newBrowser.close()
    }
}
