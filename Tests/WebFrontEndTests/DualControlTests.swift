import BizDirectCore
import Foundation
import RegistrationAuthority
import Testing
import TestSupport

/// Dual control and split knowledge in the branch, played as three staff members would play it
/// through every console page that can reveal a secret: no single person's pages and typing are
/// enough to acquire a customer's certificate or another staff member's, or to approve what they
/// recorded themselves.
@Suite("Dual control and split knowledge")
struct DualControlTests {
    /// What one staff member saw (every page body) and typed.
    final class Knowledge: @unchecked Sendable {
        var seen: [String] = []
        func saw(_ page: TestBrowser.Page) -> TestBrowser.Page {
            seen.append(page.body)
            return page
        }
        func typed(_ values: String...) { seen.append(contentsOf: values) }
        func knows(_ secret: String) -> Bool { !secret.isEmpty && seen.contains { $0.contains(secret) } }
        /// The grids of every customer card printed on a page this person saw, oldest first.
        var grids: [[[String]]] { seen.compactMap(DualControlTests.grid(in:)) }
        /// Every code half shown to this person.
        var codeHalves: [String] { seen.compactMap(BranchConsoleTests.code(in:)) }
    }

    /// The grid of the customer card printed on a page, if there is one.
    static func grid(in body: String) -> [[String]]? {
        guard let table = body.range(of: "id=\"card-grid\"").map({ String(body[$0.upperBound...]) }) else { return nil }
        let rows = CardGrid.rowLabels.map { label -> [String] in
            guard let row = table.range(of: "<tr><th>\(label)</th>").map({ String(table[$0.upperBound...].prefix(while: { $0 != "\n" }).components(separatedBy: "</tr>")[0]) }) else { return [] }
            return row.components(separatedBy: "<td>").dropFirst().map { String($0.prefix { $0 != "<" }) }
        }
        return rows.allSatisfy({ $0.count == CardGrid.columns }) ? rows : nil
    }

    @Test("no single staff member can acquire a customer's or another staff member's certificate, or approve their own request")
    func noSinglePersonSuffices() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let ra = server.ra
        let (clerk, ito, sato) = (Knowledge(), Knowledge(), Knowledge())
        let clerkBrowser = try await LogonSiteTests.logOn(server, try await ra.enrolStaff(name: "Kato", role: .clerk, pin: "kato1pin"), pin: "kato1pin")
        let itoBrowser = try await LogonSiteTests.logOn(server, try await ra.enrolStaff(name: "Ito", role: .supervisor, pin: "ito11pin"), pin: "ito11pin")
        let satoBrowser = try await LogonSiteTests.logOn(server, try await ra.enrolStaff(name: "Sato", role: .supervisor, pin: "sato1pin"), pin: "sato1pin")
        let clerkID = try #require(try await ra.store.holders(scope: "bank").first { $0.name == "Kato" }).loginID
        let url = server.logonURL
        func visitEverything(_ browser: TestBrowser, _ who: Knowledge, contractID: String?) async throws {
            for path in ["/branch", "/branch/staff", "/branch/staff/new", "/branch/contracts/new"] + (contractID.map { ["/branch/contracts/\($0)"] } ?? []) {
                _ = who.saw(try await browser.get(url + path))
            }
        }
        func firstPending(_ browser: TestBrowser, _ who: Knowledge) async throws -> (String, String) {
            let home = who.saw(try await browser.get(url + "/branch"))
            let id = try #require(home.body.range(of: "data-request=\"").map { String(home.body[$0.upperBound...].prefix(36)) })
            return (id, home.field("csrf") ?? "")
        }
        func approve(_ browser: TestBrowser, _ who: Knowledge, pin: String) async throws -> TestBrowser.Page {
            let (id, csrf) = try await firstPending(browser, who)
            who.typed(pin)
            return who.saw(try await browser.post(url + "/branch/requests/\(id)/decision", form: ["csrf": csrf, "decision": "approve", "pin": pin]))
        }

        // 1. The clerk records a contract with the provisional PINs from the application; Ito approves and prints the card.
        let contractPIN = "kari1pin", confirmationPIN = "kari2pin"
        let form = clerk.saw(try await clerkBrowser.get(url + "/branch/contracts/new"))
        clerk.typed(contractPIN, confirmationPIN)
        let created = clerk.saw(try await clerkBrowser.post(url + "/branch/contracts", form: [
            "csrf": form.field("csrf") ?? "", "company": "山田商事", "branch": "本店", "administrator": "山田太郎",
            "contractPIN": contractPIN, "confirmationPIN": confirmationPIN]))
        let contractID = try #require(created.headers["Location"].first.map { String($0.split(separator: "/").last ?? "") })
        #expect(try await approve(itoBrowser, ito, pin: "ito11pin").body.contains("id=\"card-grid\""))

        // 2. Ito records a new supervisor (Mori); Sato approves. Each is shown one half of Mori's code.
        let staffForm = ito.saw(try await itoBrowser.get(url + "/branch/staff/new"))
        _ = ito.saw(try await itoBrowser.post(url + "/branch/staff", form: ["csrf": staffForm.field("csrf") ?? "", "name": "Mori", "role": "supervisor"]))
        _ = try await approve(satoBrowser, sato, pin: "sato1pin")

        // 3. A lost card: the clerk records the re-issue, Sato approves and prints the new card.
        let contractPage = clerk.saw(try await clerkBrowser.get(url + "/branch/contracts/\(contractID)"))
        _ = clerk.saw(try await clerkBrowser.post(url + "/branch/contracts/\(contractID)/requests",
                                                  form: ["csrf": contractPage.field("csrf") ?? "", "kind": "cardReissue", "lost": "yes"]))
        #expect(try await approve(satoBrowser, sato, pin: "sato1pin").body.contains("id=\"card-grid\""))

        // A clerk records no staff request.
        let clerkStaff = clerk.saw(try await clerkBrowser.get(url + "/branch/staff/new"))
        let clerkAdd = clerk.saw(try await clerkBrowser.post(url + "/branch/staff", form: ["csrf": clerkStaff.field("csrf") ?? "", "name": "Fake", "role": "supervisor"]))
        #expect(clerkAdd.status == 403, "a clerk cannot record a staff request")

        for (browser, who) in [(clerkBrowser, clerk), (itoBrowser, ito), (satoBrowser, sato)] {
            try await visitEverything(browser, who, contractID: contractID)
        }

        // 4. Ito records a re-issue of the clerk's certificate; Sato approves (which revokes the
        // clerk's certificate and so ends the clerk's session: the clerk's pages were read above).
        let list = ito.saw(try await itoBrowser.get(url + "/branch/staff"))
        _ = ito.saw(try await itoBrowser.post(url + "/branch/staff/\(clerkID)", form: ["csrf": list.field("csrf") ?? "", "action": "staffReissue"]))
        _ = try await approve(satoBrowser, sato, pin: "sato1pin")

        // 5. Nobody approves what they recorded.
        let own = ito.saw(try await itoBrowser.post(url + "/branch/staff/\(clerkID)", form: ["csrf": list.field("csrf") ?? "", "action": "staffUnlock"]))
        #expect(own.status == 303)
        let (ownID, ownCSRF) = try await firstPending(itoBrowser, ito)
        let selfApproval = ito.saw(try await itoBrowser.post(url + "/branch/requests/\(ownID)/decision",
                                                             form: ["csrf": ownCSRF, "decision": "approve", "pin": "ito11pin"]))
        #expect(selfApproval.status == 403, "Ito cannot approve the request Ito recorded")
        for (browser, who) in [(itoBrowser, ito), (satoBrowser, sato)] {
            try await visitEverything(browser, who, contractID: contractID)
        }

        // What each could try alone. The customer's administrator certificate needs both PINs
        // and the valid card; Mori's and the clerk's need both halves of their codes.
        let people = [("clerk", clerk), ("Ito", ito), ("Sato", sato)]
        for (name, who) in people {
            #expect(!(who.knows(contractPIN) && who.knows(confirmationPIN) && !who.grids.isEmpty), "\(name) holds PINs and a card")
            #expect(who.codeHalves.count <= 2 && Set(who.codeHalves).count == who.codeHalves.count)
        }
        let cells = try await ra.cards.challenge(contractID: contractID)
        func answers(_ grid: [[String]]?) -> [String: String] {
            Dictionary(uniqueKeysWithValues: cells.map { cell in
                let row = CardGrid.rowLabels.firstIndex(of: String(cell.prefix(1))) ?? 0
                return (cell, grid.map { $0[row][(Int(cell.dropFirst()) ?? 1) - 1] } ?? "00")
            })
        }
        for (name, who) in people {
            await #expect(throws: BizDirectError.self, "\(name) alone acquires the administrator's certificate") {
                _ = try await ra.acquireCredential(.administrator(contractID: contractID, cardAnswers: answers(who.grids.last)),
                                                   pin: who.knows(contractPIN) ? contractPIN : "guess1pin",
                                                   confirmationPIN: who.knows(confirmationPIN) ? confirmationPIN : "guess2pin")
            }
            // Each half this person holds, with a guess for the other.
            for half in who.codeHalves {
                for code in ["\(half)-AAAA-AAAA", "AAAA-AAAA-\(half)"] {
                    await #expect(throws: BizDirectError.self, "\(name) alone acquires a staff certificate") {
                        _ = try await ra.acquireCredential(.staff(code: code), pin: "stolen1pin", confirmationPIN: "stolen1pin")
                    }
                }
            }
        }
        // The control: together, the clerk's PINs and Sato's current card do acquire (so the
        // attempts above failed for want of a secret, not for another reason)...
        _ = try await ra.acquireCredential(.administrator(contractID: contractID, cardAnswers: answers(sato.grids.last)),
                                           pin: contractPIN, confirmationPIN: confirmationPIN)
        // ...and Ito's and Sato's halves of Mori's code acquire Mori's certificate.
        let moriCode = "\(try #require(ito.codeHalves.first))-\(try #require(sato.codeHalves.first))"
        let mori = try await ra.acquireCredential(.staff(code: moriCode), pin: "mori1pin", confirmationPIN: "mori1pin")
        #expect(try await ra.store.holder(id: mori.holderID)?.name == "Mori")
        await clerkBrowser.close(); await itoBrowser.close(); await satoBrowser.close()
    }
}
