import BizDirectCore
import CertificateAuthority
import Foundation
import RegistrationAuthority
import Storage
import Testing
import TestSupport

/// The read-then-write paths of the branch and the CA, raced in parallel. On PostgreSQL (READ
/// COMMITTED, a pool of connections) each either serialises or fails cleanly with a conflict;
/// SQLite has one writer, so the same tests hold there by construction. Run on both engines
/// (`BIZDIRECT_TEST_POSTGRES_URL`).
@Suite("Branch and revocation races")
struct BranchRaceTests {
    /// Runs `count` copies of `body` at once and returns their results.
    static func race<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> T) async -> [Result<T, any Error>] {
        await withTaskGroup(of: Result<T, any Error>.self) { group in
            for index in 0..<count { group.addTask { do { return .success(try await body(index)) } catch { return .failure(error) } } }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// Every failure is a clean conflict (never a unique-key violation or an internal error).
    static func onlyConflicts<T>(_ results: [Result<T, any Error>]) -> Bool {
        results.allSatisfy { result in
            guard case .failure(let error) = result else { return true }
            return (error as? BizDirectError)?.kind == .conflict
        }
    }

    @Test("two approvals of different requests recorded at one contract version: exactly one applies")
    func approvalsAtOneVersion() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let ra = server.ra
        let contract = try await ra.onboardContract()
        let deputy = try await ra.staffActor(try await ra.staffID(of: try await ra.enrolStaff(name: "Deputy", role: .supervisor, pin: "abc123")))
        for round in 0..<3 {
            let requests = [try await ra.branch.record(RecordBranchRequest(contractID: contract.contractID, kind: .lockRelease), by: contract.clerk),
                            try await ra.branch.record(RecordBranchRequest(contractID: contract.contractID, kind: .cardReissue), by: contract.clerk)]
            let approvers = [contract.supervisor, deputy]
            let results = await Self.race(2) { index in
                try await ra.branch.decide(DecideBranchRequest(requestID: requests[index], approve: true, pin: PIN("abc123")), by: approvers[index])
            }
            #expect(results.count { if case .success = $0 { true } else { false } } == 1, "round \(round): one approval applies")
            #expect(Self.onlyConflicts(results), "round \(round): the other is a clean conflict")
            let statuses = try await requests.asyncStatuses(ra.store)
            #expect(statuses.sorted() == ["approved", "recorded"], "round \(round): \(statuses)")
            // Clear the one left open, so the next round starts from a quiet contract.
            for (id, status) in zip(requests, statuses) where status == "recorded" {
                _ = try await ra.branch.decide(DecideBranchRequest(requestID: id, approve: false, pin: PIN("abc123"), reason: "superseded"), by: deputy)
            }
        }
    }

    @Test("the same request decided twice at once is applied once")
    func doubleApproval() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let ra = server.ra
        let contract = try await ra.onboardContract()
        let deputy = try await ra.staffActor(try await ra.staffID(of: try await ra.enrolStaff(name: "Deputy", role: .supervisor, pin: "abc123")))
        let request = try await ra.branch.record(RecordBranchRequest(contractID: contract.contractID, kind: .cardReissue), by: contract.clerk)
        let approvers = [contract.supervisor, deputy]
        let results = await Self.race(2) { index in
            try await ra.branch.decide(DecideBranchRequest(requestID: request, approve: true, pin: PIN("abc123")), by: approvers[index])
        }
        #expect(results.count { if case .success = $0 { true } else { false } } == 1)
        #expect(Self.onlyConflicts(results))
        #expect(try await ra.store.cards(contractID: contract.contractID).count == 2, "one new card, not two")
    }

    @Test("staff added at once get distinct staff IDs, with no unique-key failure")
    func concurrentStaffIDs() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let ra = server.ra
        let (recorder, approver) = try await ra.founders()
        var recorded: [UUID] = []
        // Five at once: one approver's PIN is counted before each check, so more parallel
        // approvals by the same person than the lockout limit would be refused as at the limit.
        for index in 0..<5 { recorded.append(try await ra.branch.recordStaffRequest(.add(name: "New \(index)", role: .clerk), by: recorder).requestID) }
        let requests = recorded
        let results = await Self.race(requests.count) { index in
            try await ra.branch.decide(DecideBranchRequest(requestID: requests[index], approve: true, pin: PIN(founderPIN)), by: approver)
        }
        let ids = results.compactMap { result -> String? in
            if case .success(.codeHalf(let staffID, _)) = result { return staffID }
            return nil
        }
        #expect(ids.count == requests.count, "\(results)")
        #expect(Set(ids).count == ids.count)
    }

    @Test("users registered at once never pass the contract's user limit")
    func userLimitUnderRace() async throws {
        let server = try await LiveServer.start { $0.userLimit = 3 }
        defer { Task { await server.stop() } }
        let ra = server.ra
        let contract = try await ra.onboardContract()
        // Five at once (each confirmation PIN is counted before its check; see above).
        let results = await Self.race(5) { index in
            try await ra.registerUser(contract, userID: "race\(index)")
        }
        let users = try await ra.store.holders(scope: contract.contractID).filter { $0.role == "user" }
        #expect(users.count == 3, "\(users.map(\.loginID))")
        #expect(results.count { if case .success = $0 { true } else { false } } == 3)
        #expect(Self.onlyConflicts(results), "the rest are refused with the user limit, never a database error")
    }

    @Test("a certificate revoked twice at once keeps the first time and reason; one revocation, one CRL entry")
    func revocationRace() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let ra = server.ra
        let credential = try await ra.enrolStaff()
        let reasons: [RevocationReason] = [.keyCompromise, .superseded, .affiliationChanged, .cessationOfOperation]
        let results = await Self.race(reasons.count) { index in
            try await ra.certificates.revoke(serial: credential.serial, reason: reasons[index], actor: "test:\(index)")
        }
        let changed = results.compactMap { try? $0.get() }
        #expect(changed.count(where: { $0 }) == 1, "\(results)")
        let row = try #require(try await ra.store.certificate(serial: credential.serial))
        let events = try await ra.store.recentAuditEvents(limit: 20, mentioning: credential.serial).filter { $0.action == "certificate.revoke" }
        let winner = try #require(events.first { $0.outcome == "allowed" })
        #expect(events.count { $0.outcome == "allowed" } == 1)
        // The stored reason is the winner's.
        let index = try #require(Int(winner.actor.split(separator: ":").last ?? ""))
        #expect(row.revocationReason == reasons[index].rawValue)
    }
}

extension Array where Element == UUID {
    /// The stored status of each request.
    func asyncStatuses(_ store: Store) async throws -> [String] {
        var statuses: [String] = []
        for id in self { statuses.append(try await store.branchRequest(id: id)?.status ?? "?") }
        return statuses
    }
}
