import BizDirectCore
import Foundation
import RegistrationAuthority
import Testing
import TestSupport

@Suite("AdministratorService")
struct AdministratorServiceTests {
    @Test("registration refuses a duplicate ID, an invalid ID, PINs that break the rules, and another contract")
    func registrationBadInput() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let ra = server.ra
        let contract = try await ra.onboardContract()
        let other = try await ra.onboardContract(company: "別会社")
        try await ra.registerUser(contract, userID: "taro01")
        await #expect(throws: BizDirectError.conflict("holder.duplicate", "")) { try await ra.registerUser(contract, userID: "TARO01".lowercased()) }
        await #expect(throws: BizDirectError.malformed("userID.format", "")) { try await ra.registerUser(contract, userID: "ab") }
        await #expect(throws: BizDirectError.malformed("userID.format", "")) { try await ra.registerUser(contract, userID: "taro-01") }
        await #expect(throws: BizDirectError.malformed("pin.mix", "")) { try await ra.registerUser(contract, userID: "hana02", pin: "abcdefg") }
        await #expect(throws: BizDirectError.malformed("pin.same", "")) { try await ra.registerUser(contract, userID: "hana02", confirmationPIN: "user1pin") }
        let admin = try await ra.administrator(of: contract)
        await #expect(throws: BizDirectError.forbidden("admin.otherContract", "")) {
            try await ra.administrators.registerUser(RegisterUserRequest(contractID: other.contractID, userID: "spy001", name: "Spy",
                                                                         pin: PIN("user1pin"), confirmationPIN: PIN("conf1pin")),
                                                     by: admin, confirmationPIN: PIN(contract.confirmationPIN))
        }
        #expect(try await ra.store.recentAuditEvents(limit: 1).first?.outcome == "denied:admin.otherContract")
        await #expect(throws: BizDirectError.notFound("user.unknown", "")) {
            try await ra.administrators.change(userID: "taro01", .unlock, by: try await ra.administrator(of: other),
                                               confirmationPIN: PIN(other.confirmationPIN), certificates: ra.certificates)
        }
    }

    @Test("the number of users per contract is limited (configurable)")
    func userLimit() async throws {
        let server = try await LiveServer.start { $0.userLimit = 2 }; defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        try await server.ra.registerUser(contract, userID: "user01")
        try await server.ra.registerUser(contract, userID: "user02")
        await #expect(throws: BizDirectError.conflict("user.limit", "")) { try await server.ra.registerUser(contract, userID: "user03") }
    }

    @Test("a wrong contract confirmation PIN refuses the change and counts towards the administrator's lock")
    func wrongConfirmationCounts() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let ra = server.ra
        let contract = try await ra.onboardContract()
        try await ra.registerUser(contract, userID: "taro01")
        let admin = try await ra.administrator(of: contract)
        await #expect(throws: BizDirectError.unauthenticated("pin.wrong", "")) {
            try await ra.administrators.change(userID: "taro01", .rename("X"), by: admin, confirmationPIN: PIN("wrong1x"), certificates: ra.certificates)
        }
        #expect(try await ra.store.holder(id: admin.holderID)?.failureCount == 1)
        #expect(try await ra.store.holder(scope: contract.contractID, loginID: "taro01")?.name == "Taro", "nothing changed")
    }

    @Test("re-issue revokes the user's certificate at once and opens an acquisition window; delete revokes too")
    func reissueAndDelete() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let ra = server.ra
        let contract = try await ra.onboardContract()
        try await ra.registerUser(contract, userID: "taro01")
        let first = try await ra.acquireCredential(.user(contractID: contract.contractID, userID: "taro01"), pin: "user1pin", confirmationPIN: "conf1pin")
        let admin = try await ra.administrator(of: contract)
        let confirm = PIN(contract.confirmationPIN)
        try await ra.administrators.change(userID: "taro01", .reissue, by: admin, confirmationPIN: confirm, certificates: ra.certificates)
        let revoked = try #require(try await ra.store.certificate(serial: first.serial))
        #expect(revoked.status == "revoked" && revoked.revocationReason == 4)
        let second = try await ra.acquireCredential(.user(contractID: contract.contractID, userID: "taro01"), pin: "user1pin", confirmationPIN: "conf1pin")
        #expect(try await ra.administrators.users(admin).first?.serial == second.serial)
        try await ra.administrators.change(userID: "taro01", .setPINs(pin: PIN("new1pin"), confirmation: PIN("new2pin")), by: admin,
                                           confirmationPIN: confirm, certificates: ra.certificates)
        #expect(try await ra.logon.mustChangePINs(holderID: second.holderID))
        try await ra.administrators.change(userID: "taro01", .delete, by: admin, confirmationPIN: confirm, certificates: ra.certificates)
        #expect(try await ra.store.certificate(serial: second.serial)?.status == "revoked")
        #expect(try await ra.administrators.users(admin).isEmpty)
        await #expect(throws: BizDirectError.conflict("holder.duplicate", "")) { try await ra.registerUser(contract, userID: "taro01") }
        let actions = try await ra.store.recentAuditEvents(limit: 30).map(\.action)
        for action in ["user.register", "user.reissue", "user.setPINs", "user.delete"] { #expect(actions.contains(action), "\(action)") }
    }

    @Test("the administrator unlocks a user locked by wrong PINs")
    func unlockUser() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let ra = server.ra
        let contract = try await ra.onboardContract()
        try await ra.registerUser(contract, userID: "taro01")
        let user = try #require(try await ra.store.holder(scope: contract.contractID, loginID: "taro01"))
        for _ in 0..<6 { try? await ra.logon.verifyPIN(holderID: try user.requireID(), pin: PIN("bad1pin"), clientAddress: "-", certificateSerial: "-") }
        let admin = try await ra.administrator(of: contract)
        #expect(try await ra.administrators.users(admin).first?.status == "locked")
        #expect(try await ra.store.contract(contract.contractID)?.lockedAt == nil, "a user's lock does not lock the contract")
        try await ra.administrators.change(userID: "taro01", .unlock, by: admin, confirmationPIN: PIN(contract.confirmationPIN), certificates: ra.certificates)
        #expect(try await ra.administrators.users(admin).first?.status == "awaitingAcquisition")
        try await ra.logon.verifyPIN(holderID: try user.requireID(), pin: PIN("user1pin"), clientAddress: "-", certificateSerial: "-")
    }
}
