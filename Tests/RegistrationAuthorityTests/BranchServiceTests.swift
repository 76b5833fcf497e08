import BizDirectCore
import FluentKit
import Foundation
import Policy
import RegistrationAuthority
import Storage
import Testing
import TestSupport

@Suite("BranchService")
struct BranchServiceTests {
    struct Branch {
        let server: LiveServer
        let clerk: StaffActor, supervisor: StaffActor, otherSupervisor: StaffActor
        var ra: RegistrationAuthority { server.ra }
    }

    static func branch() async throws -> Branch {
        let server = try await LiveServer.start()
        func actor(_ name: String, _ role: Role) async throws -> StaffActor {
            try await server.ra.staffActor(try await server.ra.staffID(of: try await server.ra.enrolStaff(name: name, role: role, pin: "abc123")))
        }
        return Branch(server: server, clerk: try await actor("Clerk", .clerk), supervisor: try await actor("Boss", .supervisor),
                      otherSupervisor: try await actor("Deputy", .supervisor))
    }

    /// A contract onboarded and approved; returns its ID and the printed card.
    static func onboard(_ b: Branch) async throws -> (String, PrintableCard) {
        let made = try await b.ra.branch.recordOnboarding(RecordOnboardingRequest(companyName: "山田商事株式会社", branch: "本店",
                                                                                   administratorName: "山田太郎", contractPIN: PIN(OnboardedContract.provisionalPIN),
                                                                                   confirmationPIN: PIN(OnboardedContract.provisionalConfirmationPIN)), by: b.clerk)
        return (made.contractID, try await Self.approvedCard(b, made.requestID))
    }

    /// An application with the test customer's provisional PINs.
    static func application(_ company: String, _ administrator: String) -> RecordOnboardingRequest {
        RecordOnboardingRequest(companyName: company, branch: "本店", administratorName: administrator,
                                contractPIN: PIN(OnboardedContract.provisionalPIN), confirmationPIN: PIN(OnboardedContract.provisionalConfirmationPIN))
    }

    /// Approves `request` as the supervisor (PIN abc123) and returns the printed card.
    static func approvedCard(_ b: Branch, _ request: UUID, by approver: StaffActor? = nil) async throws -> PrintableCard {
        guard case .card(let card) = try await b.ra.branch.decide(DecideBranchRequest(requestID: request, approve: true, pin: PIN("abc123")),
                                                                  by: approver ?? b.supervisor) else {
            throw BizDirectError.internal("test.noCard", "The approval printed no card.")
        }
        return card
    }

    @Test("a stored request kind the code does not know is refused, never approved as an onboarding")
    func unknownKindIsNotOnboarding() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let made = try await b.ra.branch.recordOnboarding(Self.application("山田商事", "山田太郎"), by: b.clerk)
        let row = try #require(try await b.ra.store.branchRequest(id: made.requestID))
        row.kind = "corrupted"
        try await row.update(on: b.ra.store.database)
        await #expect(throws: BizDirectError.internal("request.kindUnknown", "")) {
            _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: made.requestID, approve: true, pin: PIN("abc123")), by: b.supervisor)
        }
        #expect(try await b.ra.store.contract(made.contractID)?.status == "pending")
        #expect(try await b.ra.store.holder(scope: made.contractID, loginID: "admin") == nil)
    }

    @Test("onboarding: a clerk records, a supervisor approves, the contract becomes active with its administrator and card")
    func onboarding() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let made = try await b.ra.branch.recordOnboarding(Self.application("山田商事", "山田太郎"), by: b.clerk)
        #expect(try ContractID(parsing: made.contractID).digits == made.contractID)
        #expect(try await b.ra.store.contract(made.contractID)?.status == "pending")
        #expect(try await b.ra.store.holder(scope: made.contractID, loginID: "admin") == nil, "nothing before approval")
        let card = try await Self.approvedCard(b, made.requestID)
        #expect(try await b.ra.store.contract(made.contractID)?.status == "active")
        #expect(card.grid.cells.count * card.grid.cells[0].count >= 40)
        #expect(card.grid.cells.allSatisfy { $0.allSatisfy { $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) } })
        // The administrator's PINs are the provisional ones from the application, to be changed at the first logon.
        let pin = OnboardedContract.provisionalPIN
        #expect(try await b.ra.store.branchRequest(id: made.requestID)?.pinHash == nil, "the request keeps no PIN hash once decided")
        let admin = try #require(try await b.ra.store.holder(scope: made.contractID, loginID: "admin"))
        #expect(admin.mustChangePIN && admin.acquisitionOpenUntil != nil)
        try await b.ra.logon.verifyPIN(holderID: try admin.requireID(), pin: PIN(pin), clientAddress: "-", certificateSerial: "-")
        let cards = try await b.ra.store.cards(contractID: made.contractID)
        #expect(cards.count == 1 && cards[0].status == "issued")
        #expect(!String(decoding: cards[0].gridCiphertext, as: UTF8.self).contains(card.grid.cells[0].joined()), "the grid is stored encrypted")
        let actions = try await b.ra.store.recentAuditEvents(limit: 20, mentioning: made.contractID).map(\.action)
        #expect(actions.contains("contract.record") && actions.contains("request.approve") && actions.contains("card.print"))
    }

    @Test("the two-person rule: no approving your own request, clerks cannot approve, no double approval")
    func twoPersonRule() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let own = try await b.ra.branch.recordOnboarding(Self.application("A社", "A"), by: b.supervisor)
        await #expect(throws: BizDirectError.forbidden("request.ownRequest", "")) {
            _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: own.requestID, approve: true, pin: PIN("abc123")), by: b.supervisor)
        }
        await #expect(throws: BizDirectError.forbidden("request.supervisorOnly", "")) {
            _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: own.requestID, approve: true, pin: PIN("abc123")), by: b.clerk)
        }
        #expect(try await b.ra.store.contract(own.contractID)?.status == "pending", "refusals change nothing")
        _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: own.requestID, approve: true, pin: PIN("abc123")), by: b.otherSupervisor)
        await #expect(throws: BizDirectError.conflict("request.alreadyDecided", "")) {
            _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: own.requestID, approve: true, pin: PIN("abc123")), by: b.otherSupervisor)
        }
        let denied = try await b.ra.store.recentAuditEvents(limit: 30).filter { $0.outcome.hasPrefix("denied:request.") }
        #expect(denied.count == 3)
    }

    @Test("a request whose contract changed after it was recorded cannot be approved")
    func optimisticCheck() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let (contractID, _) = try await Self.onboard(b)
        let first = try await b.ra.branch.record(RecordBranchRequest(contractID: contractID, kind: .lockRelease), by: b.clerk)
        let second = try await b.ra.branch.record(RecordBranchRequest(contractID: contractID, kind: .cardReissue), by: b.clerk)
        _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: first, approve: true, pin: PIN("abc123")), by: b.supervisor)
        await #expect(throws: BizDirectError.conflict("request.contractChanged", "")) {
            _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: second, approve: true, pin: PIN("abc123")), by: b.supervisor)
        }
        #expect(try await b.ra.store.branchRequest(id: second)?.status == "recorded")
    }

    @Test("a wrong check digit and an unknown contract are refused and change nothing")
    func badContractIDs() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let (contractID, _) = try await Self.onboard(b)
        var typo = Array(contractID)
        typo[3] = typo[3] == "9" ? "8" : Character(String((Int(String(typo[3]))! + 1)))
        await #expect(throws: BizDirectError.malformed("contractID.checkDigit", "")) {
            _ = try await b.ra.branch.record(RecordBranchRequest(contractID: String(typo), kind: .lockRelease), by: b.clerk)
        }
        let unknown = try ContractID(body: "1000000001").digits
        await #expect(throws: BizDirectError.notFound("contract.unknown", "")) {
            _ = try await b.ra.branch.record(RecordBranchRequest(contractID: unknown, kind: .lockRelease), by: b.clerk)
        }
        #expect(try await b.ra.store.branchRequests(contractID: contractID).count == 1, "only the onboarding request")
    }

    @Test("lock release unlocks the administrator, the contract and its users, and clears the counters")
    func lockRelease() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let (contractID, _) = try await Self.onboard(b)
        let admin = try #require(try await b.ra.store.holder(scope: contractID, loginID: "admin"))
        let user = try await b.ra.store.insertHolder(role: .user, scope: contractID, loginID: "taro01", name: "Taro", pinHash: nil, at: Date())
        for _ in 0..<6 {
            try? await b.ra.logon.verifyPIN(holderID: try admin.requireID(), pin: PIN("wrong123"), clientAddress: "-", certificateSerial: "-")
        }
        #expect(try await b.ra.store.contract(contractID)?.lockedAt != nil)
        #expect(try await b.ra.logon.summary(user).locked, "an administrator's lock locks the users")
        let request = try await b.ra.branch.record(RecordBranchRequest(contractID: contractID, kind: .lockRelease), by: b.clerk)
        _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: request, approve: true, pin: PIN("abc123")), by: b.supervisor)
        #expect(try await b.ra.store.contract(contractID)?.lockedAt == nil)
        let released = try #require(try await b.ra.store.holder(id: try admin.requireID()))
        #expect(released.lockedAt == nil && released.failureCount == 0)
        #expect(try await !b.ra.logon.summary(try #require(try await b.ra.store.holder(id: try user.requireID()))).locked)
    }

    @Test("administrator certificate re-issue revokes the certificate, publishes it in the CRL and opens a window")
    func certificateReissue() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let (contractID, _) = try await Self.onboard(b)
        let admin = try #require(try await b.ra.store.holder(scope: contractID, loginID: "admin"))
        let credential = try await b.ra.issueCredential(holderID: try admin.requireID())
        let request = try await b.ra.branch.record(RecordBranchRequest(contractID: contractID, kind: .certificateReissue), by: b.clerk)
        #expect(try await b.ra.store.certificate(serial: credential.serial)?.status == "active", "recording changes nothing")
        b.server.clock.advance(by: 60)
        _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: request, approve: true, pin: PIN("abc123")), by: b.supervisor)
        let revoked = try #require(try await b.ra.store.certificate(serial: credential.serial))
        #expect(revoked.status == "revoked" && revoked.revocationReason == 4)
        let window = try #require(try await b.ra.store.holder(id: try admin.requireID())?.acquisitionOpenUntil)
        #expect(abs(window.timeIntervalSince(b.server.clock.now()) - 80 * 86_400) < 1)
        let crl = try await b.ra.certificates.currentCRL()
        #expect(Store.hex(crl).contains(credential.serial))
    }

    @Test("card re-issue for a lost card invalidates the old grid at once; approval makes a new card, sent within 2–3 weeks")
    func cardReissue() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let (contractID, oldCard) = try await Self.onboard(b)
        let request = try await b.ra.branch.record(RecordBranchRequest(contractID: contractID, kind: .cardReissue, lostCard: true), by: b.clerk)
        #expect(try await b.ra.store.cards(contractID: contractID).map(\.status) == ["invalidated"])
        let newCard = try await Self.approvedCard(b, request)
        #expect(newCard.grid != oldCard.grid && newCard.acquisitionDeadline == nil)
        let cards = try await b.ra.store.cards(contractID: contractID)
        #expect(cards.map(\.status).sorted() == ["invalidated", "issued"])
        try await b.ra.branch.markCardSent(contractID: contractID, by: b.clerk)
        let sent = try #require(try await b.ra.store.cards(contractID: contractID).first { $0.status == "sent" })
        let arrival = try #require(BranchService.expectedArrival(sent))
        #expect(arrival.lowerBound.timeIntervalSince(sent.sentAt!) == 14 * 86_400 && arrival.upperBound.timeIntervalSince(sent.sentAt!) == 21 * 86_400)
        let view = try await b.ra.branch.view(contractID: contractID)
        #expect(view.cards.contains { $0.values["arrival"] != nil })
        // The old grid no longer answers the card challenge; the new one does.
        let cells = try await b.ra.cards.challenge(contractID: contractID)
        let contract = OnboardedContract(contractID: contractID, card: oldCard, clerk: b.clerk, supervisor: b.supervisor)
        await #expect(throws: BizDirectError.unauthenticated("acquisition.refused", "")) {
            _ = try await b.ra.acquireCredential(.administrator(contractID: contractID, cardAnswers: contract.answers(cells)),
                                                 pin: contract.pin, confirmationPIN: contract.confirmationPIN)
        }
        let fresh = OnboardedContract(contractID: contractID, card: newCard, clerk: b.clerk, supervisor: b.supervisor)
        _ = try await b.ra.acquireCredential(.administrator(contractID: contractID, cardAnswers: fresh.answers(cells)),
                                             pin: contract.pin, confirmationPIN: contract.confirmationPIN)
        #expect(view.requests.first?.history.map { $0.values["action"] ?? "" } == ["recorded", "approved"])
    }

    @Test("an approval is confirmed with the approver's PIN (wrong ones count towards their lock); a refusal needs a reason and keeps it")
    func approverPINAndRefusal() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let made = try await b.ra.branch.recordOnboarding(Self.application("A社", "A"), by: b.clerk)
        await #expect(throws: BizDirectError.unauthenticated("pin.wrong", "")) {
            _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: made.requestID, approve: true, pin: PIN("wrong123")), by: b.supervisor)
        }
        #expect(try await b.ra.store.holder(id: b.supervisor.holderID)?.failureCount == 1)
        #expect(try await b.ra.store.contract(made.contractID)?.status == "pending", "a wrong PIN changes nothing")
        await #expect(throws: BizDirectError.malformed("request.reasonMissing", "")) {
            _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: made.requestID, approve: false, pin: PIN("abc123")), by: b.supervisor)
        }
        _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: made.requestID, approve: false, pin: PIN("abc123"),
                                                             reason: "署名が申込書と一致しない"), by: b.supervisor)
        let refused = try #require(try await b.ra.store.branchRequest(id: made.requestID))
        #expect(refused.status == "rejected" && refused.refusalReason == "署名が申込書と一致しない" && refused.pinHash == nil)
        #expect(try await b.ra.store.contract(made.contractID)?.status == "pending")
        let events = try await b.ra.store.recentAuditEvents(limit: 5)
        #expect(events.contains { $0.action == "request.reject" && $0.outcome == "allowed" })
        #expect(events.contains { $0.action == "request.confirm" && $0.outcome == "allowed" })
    }

    @Test("staff lifecycle: add, acquire with both halves and an own PIN, unlock, role change, re-issue and deactivation, each approved by another supervisor")
    func staffLifecycle() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let ra = b.ra
        // Recording is a supervisor's act, never about oneself; clerks cannot.
        await #expect(throws: BizDirectError.forbidden("request.supervisorOnly", "")) {
            _ = try await ra.branch.recordStaffRequest(.add(name: "Mori", role: .supervisor), by: b.clerk)
        }
        await #expect(throws: BizDirectError.forbidden("staff.self", "")) {
            _ = try await ra.branch.recordStaffRequest(.change(.staffRole, staffID: b.supervisor.staffID, role: .clerk), by: b.supervisor)
        }
        let added = try await ra.branch.recordStaffRequest(.add(name: "Mori", role: .clerk), by: b.supervisor)
        let first = try #require(added.codeHalf)
        #expect(try await ra.staff.members().count(where: { $0.name == "Mori" }) == 0, "nobody exists before approval")
        guard case .codeHalf(let staffID, let second) = try await ra.branch.decide(
            DecideBranchRequest(requestID: added.requestID, approve: true, pin: PIN("abc123")), by: b.otherSupervisor) else {
            Issue.record("the approval gave no code half"); return
        }
        #expect(first != second)
        // One half with a guess for the other acquires nothing.
        await #expect(throws: BizDirectError.unauthenticated("acquisition.refused", "")) {
            _ = try await ra.acquireCredential(.staff(code: "\(first)-AAAA-AAAA"), pin: "mori1pin", confirmationPIN: "mori1pin")
        }
        await #expect(throws: BizDirectError.malformed("pin.repeatDiffers", "")) {
            _ = try await ra.acquireCredential(.staff(code: "\(first)-\(second)"), pin: "mori1pin", confirmationPIN: "mori2pin")
        }
        let credential = try await ra.acquireCredential(.staff(code: "\(first)-\(second)".lowercased()), pin: "mori1pin", confirmationPIN: "mori1pin")
        let mori = try #require(try await ra.store.holder(id: credential.holderID))
        #expect(mori.loginID == staffID && mori.role == "clerk" && !mori.mustChangePIN && mori.acquisitionOpenUntil == nil && mori.acquisitionCodeHash == nil)
        try await ra.logon.verifyPIN(holderID: credential.holderID, pin: PIN("mori1pin"), clientAddress: "-", certificateSerial: credential.serial)
        await #expect(throws: BizDirectError.unauthenticated("acquisition.refused", ""), "the code is spent") {
            _ = try await ra.acquireCredential(.staff(code: "\(first)-\(second)"), pin: "mori1pin", confirmationPIN: "mori1pin")
        }
        let certificate = try #require(try await ra.store.certificate(serial: credential.serial))
        #expect(abs(certificate.notAfter.timeIntervalSince(certificate.notBefore) - (90 * 86_400 + 300)) < 2, "staff certificates last 90 days")

        // Unlock: recorded by one supervisor, approved by another; the subject can never approve.
        for _ in 0..<6 { try? await ra.logon.verifyPIN(holderID: credential.holderID, pin: PIN("wrong999"), clientAddress: "-", certificateSerial: credential.serial) }
        let unlock = try await ra.branch.recordStaffRequest(.change(.staffUnlock, staffID: staffID), by: b.supervisor)
        #expect(try await ra.store.holder(id: credential.holderID)?.lockedAt != nil, "recording changes nothing")
        await #expect(throws: BizDirectError.forbidden("request.ownRequest", "")) {
            _ = try await ra.branch.decide(DecideBranchRequest(requestID: unlock.requestID, approve: true, pin: PIN("abc123")), by: b.supervisor)
        }
        _ = try await ra.branch.decide(DecideBranchRequest(requestID: unlock.requestID, approve: true, pin: PIN("abc123")), by: b.otherSupervisor)
        #expect(try await ra.store.holder(id: credential.holderID)?.lockedAt == nil)

        // Role change: approved by another supervisor; a request about a supervisor is never decided by them.
        let promote = try await ra.branch.recordStaffRequest(.change(.staffRole, staffID: staffID, role: .supervisor), by: b.supervisor)
        let pending = try await ra.branch.pendingRequests().first { $0.values["id"] == promote.requestID.uuidString }
        #expect(pending?.changes.map { "\($0.field):\($0.from)>\($0.to)" } == ["role:clerk>supervisor"], "the queue shows what changes")
        _ = try await ra.branch.decide(DecideBranchRequest(requestID: promote.requestID, approve: true, pin: PIN("abc123")), by: b.otherSupervisor)
        #expect(try await ra.store.holder(id: credential.holderID)?.role == "supervisor")
        let aboutDeputy = try await ra.branch.recordStaffRequest(.change(.staffUnlock, staffID: b.otherSupervisor.staffID), by: b.supervisor)
        let moriActor = try await ra.staffActor(staffID)
        await #expect(throws: BizDirectError.forbidden("staff.self", "")) {
            _ = try await ra.branch.decide(DecideBranchRequest(requestID: aboutDeputy.requestID, approve: true, pin: PIN("abc123")), by: b.otherSupervisor)
        }
        _ = try await ra.branch.decide(DecideBranchRequest(requestID: aboutDeputy.requestID, approve: true, pin: PIN("mori1pin")), by: moriActor)

        // Re-issue: the old certificate is revoked, a new split code acquires, with a new own PIN.
        let reissue = try await ra.branch.recordStaffRequest(.change(.staffReissue, staffID: staffID), by: b.supervisor)
        guard case .codeHalf(_, let approverHalf) = try await ra.branch.decide(
            DecideBranchRequest(requestID: reissue.requestID, approve: true, pin: PIN("abc123")), by: b.otherSupervisor) else {
            Issue.record("the re-issue gave no code half"); return
        }
        #expect(try await ra.store.certificate(serial: credential.serial)?.status == "revoked")
        let renewed = try await ra.acquireCredential(.staff(code: "\(try #require(reissue.codeHalf))-\(approverHalf)"), pin: "mori3pin", confirmationPIN: "mori3pin")

        // Deactivation: certificates revoked at once (affiliation changed), no logon, no acquisition; the ID stays taken.
        let leave = try await ra.branch.recordStaffRequest(.change(.staffDeactivate, staffID: staffID), by: b.supervisor)
        _ = try await ra.branch.decide(DecideBranchRequest(requestID: leave.requestID, approve: true, pin: PIN("abc123")), by: b.otherSupervisor)
        let gone = try #require(try await ra.store.certificate(serial: renewed.serial))
        #expect(gone.status == "revoked" && gone.revocationReason == 3)
        #expect(Store.hex(try await ra.certificates.currentCRL()).contains(renewed.serial))
        #expect(try await ra.staff.members().first { $0.loginID == staffID }?.status == "deactivated")
        await #expect(throws: BizDirectError.self) {
            try await ra.logon.verifyPIN(holderID: renewed.holderID, pin: PIN("mori3pin"), clientAddress: "-", certificateSerial: renewed.serial)
        }
        await #expect(throws: BizDirectError.notFound("staff.unknown", "")) {
            _ = try await ra.branch.recordStaffRequest(.change(.staffReissue, staffID: staffID), by: b.supervisor)
        }
        let next = try await ra.enrolStaff(name: "Next", role: .clerk, pin: "next1pin")
        #expect(try await ra.staffID(of: next) > staffID, "staff IDs are never reused")
    }

    @Test("bizdirect staff add bootstraps in one transaction: a refused request leaves nothing; an issued certificate closes the window; two supervisors end the bootstrap")
    func bootstrap() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let ra = server.ra
        await #expect(throws: BizDirectError.self) {
            _ = try await ra.staff.bootstrap(name: "Ito", role: .supervisor, pin: PIN("boss123"), csr: Array("not a request".utf8), actor: "cli:test")
        }
        #expect(try await ra.staff.members().isEmpty, "a refused request leaves no staff member behind")
        let first = try await ra.staff.bootstrap(name: "Ito", role: .supervisor, pin: PIN("boss123"),
                                                 csr: try CertificateFixtures.freshCSR(), actor: "cli:test")
        #expect(first.acquisitionCode == nil && first.certificate != nil)
        let ito = try #require(try await ra.store.holder(id: first.holderID))
        #expect(ito.acquisitionOpenUntil == nil && ito.acquisitionCodeHash == nil, "no second certificate can be acquired")
        #expect(ito.mustChangePIN, "a PIN the operator typed is changed at the first logon")
        let second = try await ra.staff.bootstrap(name: "Kato", role: .supervisor, pin: nil, csr: nil, actor: "cli:test")
        #expect(second.acquisitionCode?.count == 19 && second.certificate == nil)
        await #expect(throws: BizDirectError.forbidden("staff.bootstrapOver", "")) {
            _ = try await ra.staff.bootstrap(name: "Third", role: .clerk, pin: nil, csr: nil, actor: "cli:test")
        }
        #expect(try await ra.staff.members().count == 2)
        #expect(try await ra.store.recentAuditEvents(limit: 1).first?.outcome == "denied:staff.bootstrapOver")
    }
}
