import BizDirectCore
import Foundation
import RegistrationAuthority
import Testing
import TestSupport

/// An unknown ID must not be told apart from a wrong PIN, by answer or by time.
@Suite("No enumeration")
struct EnumerationTimingTests {
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    @Test("a wrong PIN and an unknown user ID get the same answer, and their medians over 200 tries differ by at most 20 %")
    func wrongPINAndUnknownIDLookAlike() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let ra = server.ra
        let contract = try await ra.onboardContract()
        try await ra.registerUser(contract, userID: "taro01", name: "Taro")
        let user = try #require(try await ra.store.holder(scope: contract.contractID, loginID: "taro01"))
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
        var wrong: [Double] = [], unknown: [Double] = []
        for _ in 0..<200 {
            let (a, wrongError) = try await attempt("taro01")
            try await ra.store.resetFailureCount(holderID: try user.requireID()) // keep measuring the same path, not the lock
            let (b, unknownError) = try await attempt("nobody9")
            #expect(wrongError == unknownError && wrongError.reason == "pin.wrong")
            wrong.append(a)
            unknown.append(b)
        }
        let (m1, m2) = (Self.median(wrong), Self.median(unknown))
        let difference = abs(m1 - m2) / max(m1, m2)
        print(String(format: "timing: median wrong PIN %.2f ms, unknown ID %.2f ms, difference %.1f %%", m1 * 1000, m2 * 1000, difference * 100))
        #expect(difference <= 0.20)
    }
}
