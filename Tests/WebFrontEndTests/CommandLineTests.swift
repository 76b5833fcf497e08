import BizDirectCore
import Foundation
import RegistrationAuthority
import Testing
import TestSupport

/// The `bizdirect` executable's operator commands, run as an operator would.
@Suite("Command line")
struct CommandLineTests {
    @Test("staff unlock releases a locked supervisor when nobody else can; audit head and verify --anchor work as an operator uses them",
          .enabled(if: ServerProcess.available, "needs the bizdirect executable (swift build makes it)"))
    func staffUnlock() async throws {
        let executable = try #require(ServerProcess.executable, "swift build makes the bizdirect executable")
        let directory = TemporaryDirectory("cli"); defer { directory.remove() }
        var configuration = BizDirectConfiguration(dataDirectory: directory.url)
        let databaseURL = try await TestDatabase.url(in: directory.url)
        configuration.databaseURL = databaseURL
        configuration.scryptLogN = 10
        var ra = try await RegistrationAuthority.open(configuration: configuration, logger: TestDatabase.logger)
        let member = try await ra.staff.bootstrap(name: "Only Supervisor", role: .supervisor, pin: nil, csr: nil, actor: "test")
        for _ in 0..<6 {
            _ = try? await ra.logon.verifyPIN(holderID: member.holderID, pin: PIN("wrong999"), clientAddress: "-", certificateSerial: "-")
        }
        #expect(try await ra.store.holder(id: member.holderID)?.lockedAt != nil)
        await ra.shutdown()

        let common = ["--data", directory.url.path, "--database-url", databaseURL, "--scrypt-log-n", "10"]
        let unknown = try await ExternalTool.run(executable, ["staff", "unlock", "S9999"] + common)
        #expect(unknown.status == 1 && unknown.output.contains("No staff member has this ID."), "\(unknown.output)")
        // A refusal is one line with its cause and reason key, not a usage error (exit 64).
        #expect(!unknown.output.contains("Usage:") && unknown.output.contains("bizdirect: "), "\(unknown.output)")
        let badCSR = directory.url.appendingPathComponent("bad.csr")
        try Data("garbage".utf8).write(to: badCSR)
        let refusedCSR = try await ServerProcess.command(["staff", "add", "--csr", badCSR.path, "Someone"] + common, environment: ["BIZDIRECT_STAFF_PIN": "boss123"])
        #expect(refusedCSR.status == 1 && !refusedCSR.output.contains("Usage:"), "\(refusedCSR.output)")
        #expect(try await Self.staffCount(configuration) == 1, "a refused request leaves no staff member behind")
        let result = try await ExternalTool.run(executable, ["staff", "unlock", member.staffID.lowercased()] + common)
        #expect(result.status == 0 && result.output.contains("\(member.staffID) is unlocked"), "\(result.output)")

        ra = try await RegistrationAuthority.open(configuration: configuration, logger: TestDatabase.logger)
        let holder = try #require(try await ra.store.holder(id: member.holderID))
        #expect(holder.lockedAt == nil && holder.failureCount == 0)
        let event = try #require(try await ra.store.recentAuditEvents(limit: 1).first)
        #expect(event.action == "staff.unlock" && event.actor.hasPrefix("cli:") && event.target == member.staffID)
        #expect(try await ra.verifyAuditChain().isIntact)
        await ra.shutdown()

        // The operator writes the head down, and later checks the chain against it.
        let head = try await ExternalTool.run(executable, ["audit", "head"] + common)
        let anchor = try #require(AuditAnchor(head.output.trimmingCharacters(in: .whitespacesAndNewlines)), "\(head.output)")
        #expect(anchor.seq == event.id)
        let verified = try await ExternalTool.run(executable, ["audit", "verify", "--anchor", anchor.description] + common)
        #expect(verified.status == 0 && verified.output.contains("audit chain intact"), "\(verified.output)")
        let wrong = AuditAnchor(seq: anchor.seq, hash: String(repeating: "0", count: 64))
        let refused = try await ExternalTool.run(executable, ["audit", "verify", "--anchor", wrong.description] + common)
        #expect(refused.status == 1 && refused.output.contains("event \(anchor.seq): does not match its anchor"), "\(refused.output)")
        let malformed = try await ExternalTool.run(executable, ["audit", "verify", "--anchor", "12:nothex"] + common)
        #expect(malformed.status != 0 && malformed.output.contains("expected SEQ:HASH"), "\(malformed.output)")
    }

    static func staffCount(_ configuration: BizDirectConfiguration) async throws -> Int {
        let ra = try await RegistrationAuthority.open(configuration: configuration, logger: TestDatabase.logger)
        let count = try await ra.staff.members().count
        await ra.shutdown()
        return count
    }

    @Test("a port already in use ends start-up with one line and exit status 1, not a trap",
          .enabled(if: ServerProcess.available, "needs the bizdirect executable (swift build makes it)"))
    func portInUse() async throws {
        let executable = try #require(ServerProcess.executable, "swift build makes the bizdirect executable")
        let directory = TemporaryDirectory("port"); defer { directory.remove() }
        let busy = FreePort.find()
        let holder = try #require(RawListener(port: busy), "could not hold a port")
        defer { holder.close() }
        let result = try await ExternalTool.run(executable, ["serve", "--data", directory.url.path, "--public-port", "\(busy)",
                                                             "--logon-port", "\(FreePort.find())", "--http-port", "\(FreePort.find())",
                                                             "--ops-port", "\(FreePort.find())", "--scrypt-log-n", "10"], timeout: .seconds(60))
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("bizdirect: cannot serve:") && !result.output.contains("Fatal error") && !result.output.contains("Assertion"),
                "\(result.output.suffix(400))")
    }
}
