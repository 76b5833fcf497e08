import BizDirectCore
import Foundation
import RegistrationAuthority
import Testing
import TestSupport

/// On the anonymous acquisition path, nobody may tell an unknown ID, a locked holder, a closed
/// acquisition window and a wrong PIN apart, by answer or by time.
@Suite("No enumeration")
struct EnumerationTimingTests {
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    @Test("a wrong PIN, an unknown user ID, a locked user and a closed window get the same answer, with medians over 60 tries within 20 %")
    func anonymousAnswersLookAlike() async throws {
        let server = try await LiveServer.start { $0.attemptsPerAccountPerMinute = 10_000 }; defer { Task { await server.stop() } }
        let ra = server.ra
        let contract = try await ra.onboardContract()
        for userID in ["taro01", "locked01", "closed01"] { try await ra.registerUser(contract, userID: userID, name: userID) }
        let open = try #require(try await ra.store.holder(scope: contract.contractID, loginID: "taro01"))
        let locked = try #require(try await ra.store.holder(scope: contract.contractID, loginID: "locked01"))
        try await ra.store.lock(holder: locked, at: server.clock.now())
        let closed = try #require(try await ra.store.holder(scope: contract.contractID, loginID: "closed01"))
        try await ra.store.closeAcquisitionWindowAfterFailures(holderID: try closed.requireID())

        func attempt(_ userID: String) async throws -> (Double, BizDirectError) {
            let start = ContinuousClock.now
            do {
                _ = try await ra.acquireCredential(.user(contractID: contract.contractID, userID: userID), pin: "wrong1pin", confirmationPIN: "conf1pin")
                throw BizDirectError.internal("test", "issued")
            } catch let error as BizDirectError {
                let elapsed = ContinuousClock.now - start
                return (Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds), error)
            }
        }
        let cases = ["taro01", "nobody9", "locked01", "closed01"]
        var times: [String: [Double]] = [:]
        for _ in 0..<60 {
            for userID in cases {
                let (elapsed, error) = try await attempt(userID)
                #expect(error == BizDirectError.unauthenticated("acquisition.refused", ""), "\(userID): \(error)")
                times[userID, default: []].append(elapsed)
            }
            // Keep measuring the wrong-PIN path, not the window closing at its limit.
            try await ra.store.clearAcquisitionFailures(holderID: try open.requireID())
        }
        let reference = Self.median(times["taro01"] ?? [])
        for userID in cases.dropFirst() {
            let other = Self.median(times[userID] ?? [])
            let difference = abs(reference - other) / max(reference, other)
            print(String(format: "timing: median wrong PIN %.2f ms, %@ %.2f ms, difference %.1f %%", reference * 1000, userID, other * 1000, difference * 100))
            #expect(difference <= 0.20, "\(userID)")
        }
        // None of it touched the logon counters: acquisition cannot lock anyone out.
        #expect(try await ra.store.holder(id: try open.requireID())?.failureCount == 0)
    }
}
