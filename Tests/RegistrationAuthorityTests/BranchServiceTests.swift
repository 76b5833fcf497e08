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
            let member = try await server.ra.staff.addStaff(name: name, role: role, pin: PIN("abc123"), actor: "test")
            return StaffActor(holderID: member.holderID, staffID: member.staffID, role: role, clientAddress: "127.0.0.1", certificateSerial: "-")
        }
        return Branch(server: server, clerk: try await actor("Clerk", .clerk), supervisor: try await actor("Boss", .supervisor),
                      otherSupervisor: try await actor("Deputy", .supervisor))
    }

    /// A contract onboarded and approved; returns its ID and the printed card.
    static func onboard(_ b: Branch) async throws -> (String, PrintableCard) {
        let made = try await b.ra.branch.recordOnboarding(RecordOnboardingRequest(companyName: "山田商事株式会社", branch: "本店",
                                                                                   administratorName: "山田太郎"), by: b.clerk)
        let card = try #require(try await b.ra.branch.decide(DecideBranchRequest(requestID: made.requestID, approve: true), by: b.supervisor))
        return (made.contractID, card)
    }

    @Test("a stored request kind the code does not know is refused, never approved as an onboarding")
    func unknownKindIsNotOnboarding() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let made = try await b.ra.branch.recordOnboarding(RecordOnboardingRequest(companyName: "山田商事", branch: "本店", administratorName: "山田太郎"), by: b.clerk)
        let row = try #require(try await b.ra.store.branchRequest(id: made.requestID))
        row.kind = "corrupted"
        try await row.update(on: b.ra.store.database)
        await #expect(throws: BizDirectError.internal("request.kindUnknown", "")) {
            _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: made.requestID, approve: true), by: b.supervisor)
        }
        #expect(try await b.ra.store.contract(made.contractID)?.status == "pending")
        #expect(try await b.ra.store.holder(scope: made.contractID, loginID: "admin") == nil)
    }

    @Test("onboarding: a clerk records, a supervisor approves, the contract becomes active with its administrator and card")
    func onboarding() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let made = try await b.ra.branch.recordOnboarding(RecordOnboardingRequest(companyName: "山田商事", branch: "本店", administratorName: "山田太郎"), by: b.clerk)
        #expect(try ContractID(parsing: made.contractID).digits == made.contractID)
        #expect(try await b.ra.store.contract(made.contractID)?.status == "pending")
        #expect(try await b.ra.store.holder(scope: made.contractID, loginID: "admin") == nil, "nothing before approval")
        let card = try #require(try await b.ra.branch.decide(DecideBranchRequest(requestID: made.requestID, approve: true), by: b.supervisor))
        #expect(try await b.ra.store.contract(made.contractID)?.status == "active")
        #expect(card.grid.cells.count * card.grid.cells[0].count >= 40)
        #expect(card.grid.cells.allSatisfy { $0.allSatisfy { $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) } })
        let pin = try #require(card.initialContractPIN), confirmation = try #require(card.initialConfirmationPIN)
        #expect(PINPolicy.checkPair(pin: PIN(pin), confirmation: PIN(confirmation)) == .allow)
        let admin = try #require(try await b.ra.store.holder(scope: made.contractID, loginID: "admin"))
        #expect(admin.mustChangePIN && admin.acquisitionOpenUntil != nil)
        try await b.ra.logon.verifyPIN(holderID: try admin.requireID(), pin: PIN(pin), clientAddress: "-", certificateSerial: "-")
        let cards = try await b.ra.store.cards(contractID: made.contractID)
        #expect(cards.count == 1 && cards[0].status == "issued")
        #expect(!String(decoding: cards[0].gridCiphertext, as: UTF8.self).contains(card.grid.cells[0].joined()), "the grid is stored encrypted")
        let actions = try await b.ra.store.recentAuditEvents(limit: 20, mentioning: made.contractID).map(\.action)
        #expect(actions.contains("contract.record") && actions.contains("request.approve"))
    }

    @Test("the two-person rule: no approving your own request, clerks cannot approve, no double approval")
    func twoPersonRule() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let own = try await b.ra.branch.recordOnboarding(RecordOnboardingRequest(companyName: "A社", branch: "本店", administratorName: "A"), by: b.supervisor)
        await #expect(throws: BizDirectError.forbidden("request.ownRequest", "")) {
            _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: own.requestID, approve: true), by: b.supervisor)
        }
        await #expect(throws: BizDirectError.forbidden("request.supervisorOnly", "")) {
            _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: own.requestID, approve: true), by: b.clerk)
        }
        #expect(try await b.ra.store.contract(own.contractID)?.status == "pending", "refusals change nothing")
        _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: own.requestID, approve: true), by: b.otherSupervisor)
        await #expect(throws: BizDirectError.conflict("request.alreadyDecided", "")) {
            _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: own.requestID, approve: true), by: b.otherSupervisor)
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
        _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: first, approve: true), by: b.supervisor)
        await #expect(throws: BizDirectError.conflict("request.contractChanged", "")) {
            _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: second, approve: true), by: b.supervisor)
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
        _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: request, approve: true), by: b.supervisor)
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
        _ = try await b.ra.branch.decide(DecideBranchRequest(requestID: request, approve: true), by: b.supervisor)
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
        let newCard = try #require(try await b.ra.branch.decide(DecideBranchRequest(requestID: request, approve: true), by: b.supervisor))
        #expect(newCard.grid != oldCard.grid && newCard.initialContractPIN == nil)
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

    @Test("staff: a supervisor unlocks and re-issues for another staff member; clerks and oneself are refused; the new code acquires")
    func staffManagement() async throws {
        let b = try await Self.branch(); defer { Task { await b.server.stop() } }
        let old = try await b.ra.issueCredential(holderID: b.clerk.holderID)
        for _ in 0..<6 {
            _ = try? await b.ra.logon.verifyPIN(holderID: b.clerk.holderID, pin: PIN("wrong999"), clientAddress: "-", certificateSerial: old.serial)
        }
        func status(_ staffID: String) async throws -> String? { try await b.ra.staff.members().first { $0.loginID == staffID }?.status }
        #expect(try await status(b.clerk.staffID) == "locked")

        await #expect(throws: BizDirectError.forbidden("request.supervisorOnly", "")) {
            _ = try await b.ra.staff.change(staffID: b.supervisor.staffID, .reissue, by: b.clerk, certificates: b.ra.certificates)
        }
        await #expect(throws: BizDirectError.forbidden("staff.self", "")) {
            _ = try await b.ra.staff.change(staffID: b.supervisor.staffID, .reissue, by: b.supervisor, certificates: b.ra.certificates)
        }
        #expect(try await b.ra.store.recentAuditEvents(limit: 1).first?.outcome == "denied:staff.self")
        await #expect(throws: BizDirectError.notFound("staff.unknown", "")) {
            _ = try await b.ra.staff.change(staffID: "S9999", .unlock, by: b.supervisor, certificates: b.ra.certificates)
        }

        #expect(try await b.ra.staff.change(staffID: b.clerk.staffID.lowercased(), .unlock, by: b.supervisor, certificates: b.ra.certificates) == nil)
        #expect(try await status(b.clerk.staffID) == "active")
        #expect(try await b.ra.store.holder(id: b.clerk.holderID)?.failureCount == 0)
        try await b.ra.logon.verifyPIN(holderID: b.clerk.holderID, pin: PIN("abc123"), clientAddress: "-", certificateSerial: old.serial)
        let unlocked = try #require(try await b.ra.store.recentAuditEvents(limit: 10).first { $0.action == "staff.unlock" })
        #expect(unlocked.actor == "staff:\(b.supervisor.staffID)" && unlocked.target == b.clerk.staffID && unlocked.outcome == "allowed")

        let code = try #require(try await b.ra.staff.change(staffID: b.clerk.staffID, .reissue, by: b.otherSupervisor, certificates: b.ra.certificates))
        let revoked = try #require(try await b.ra.store.certificate(serial: old.serial))
        #expect(revoked.status == "revoked" && revoked.revocationReason == 4)
        #expect(try await status(b.clerk.staffID) == "awaitingAcquisition")
        let renewed = try await b.ra.acquireCredential(.staff(code: code), pin: "abc123", confirmationPIN: nil)
        #expect(renewed.holderID == b.clerk.holderID)
        #expect(try await status(b.clerk.staffID) == "active")
    }
}
