import BizDirectCore
import Foundation
import RegistrationAuthority
import SQLKit
import Testing
import TestSupport

/// Kills the real `bizdirect` process with SIGKILL while it writes, and checks the database.
@Suite("Crash consistency")
struct CrashConsistencyTests {
    @Test("kill -9 during writes leaves the database consistent and the audit chain whole at restart",
          .enabled(if: ServerProcess.available && ExternalTool.available("curl"), "needs the bizdirect executable (swift build) and curl"))
    func killDuringWrites() async throws {
        let curl = try #require(ExternalTool.find("curl"))
        let directory = TemporaryDirectory("crash"); defer { directory.remove() }
        let databaseURL = try await TestDatabase.url(in: directory.url)
        // A staff certificate to present: a logon with a known certificate is a decision about a
        // person, so each one is audited (requests without a certificate are not).
        var setup = BizDirectConfiguration(dataDirectory: directory.url)
        setup.databaseURL = databaseURL
        setup.scryptLogN = 10
        let enrolling = try await RegistrationAuthority.open(configuration: setup, logger: TestDatabase.logger)
        let credential = try await enrolling.enrolStaff()
        await enrolling.shutdown()
        let certificatePath = directory.url.appendingPathComponent("staff.cert.pem").path
        let keyPath = directory.url.appendingPathComponent("staff.key.pem").path
        try Data(credential.certificatePEM.utf8).write(to: URL(fileURLWithPath: certificatePath))
        try Data(credential.keyPEM.utf8).write(to: URL(fileURLWithPath: keyPath))
        // Wait until the logon listener answers, then keep it writing (each logon attempt is audited).
        let server = try await ServerProcess.start(directory: directory.url, databaseURL: databaseURL, extra: ["--scrypt-log-n", "10"])
        // Never leave the server behind, whatever fails below.
        defer { server.kill() }
        let logonPort = server.logonPort
        let writers = (0..<4).map { _ in
            Task.detached {
                for _ in 0..<200 where !Task.isCancelled {
                    _ = try? await ExternalTool.run(curl, ["-sk", "--max-time", "10", "-o", "/dev/null", "--cert", certificatePath, "--key", keyPath,
                                                           "https://127.0.0.1:\(logonPort)/logon"])
                }
            }
        }
        try await Task.sleep(for: .milliseconds(1500))
        await server.stop(signal: SIGKILL)
        writers.forEach { $0.cancel() }
        for writer in writers { await writer.value }

        var configuration = BizDirectConfiguration(dataDirectory: directory.url)
        configuration.databaseURL = databaseURL
        configuration.scryptLogN = 10
        let ra = try await RegistrationAuthority.open(configuration: configuration, logger: TestDatabase.logger)
        let verification = try await ra.verifyAuditChain()
        if databaseURL.hasPrefix("sqlite"), let sql = ra.store.database as? any SQLDatabase {
            struct Row: Decodable { let integrity_check: String }
            let rows = try await sql.raw("PRAGMA integrity_check").all(decoding: Row.self)
            #expect(rows.map(\.integrity_check) == ["ok"])
        }
        await ra.shutdown()
        #expect(verification.count > 10, "the server wrote events before it was killed")
        #expect(verification.isIntact, "\(verification.problems)")
    }

    @Test("kill -9 during revocations never leaves a revoked certificate off the stored CRL",
          .enabled(if: ServerProcess.available, "needs the bizdirect executable (swift build)"))
    func killDuringRevocations() async throws {
        let directory = TemporaryDirectory("crash-revoke"); defer { directory.remove() }
        var configuration = BizDirectConfiguration(dataDirectory: directory.url)
        configuration.databaseURL = try await TestDatabase.url(in: directory.url)
        configuration.scryptLogN = 10
        let setup = try await RegistrationAuthority.open(configuration: configuration, logger: TestDatabase.logger)
        let holder = try await setup.enrolStaff()
        // Issued all at once, so that the pipeline group-commits them (90 fsyncs in a row would
        // only slow the other tests running beside this one).
        let serials = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<90 { group.addTask { try await setup.issueCredential(holderID: holder.holderID).serial } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        await setup.shutdown()
        let common = ["--data", directory.url.path, "--database-url", configuration.databaseURL ?? "", "--scrypt-log-n", "10"]
        let executable = try #require(ServerProcess.executable)
        // The test's own view of the database, kept open while the revoking process runs.
        let observer = try await RegistrationAuthority.open(configuration: configuration, logger: TestDatabase.logger)
        // Six rounds of an operator's bulk revocation (one transaction per certificate), each killed
        // the moment its first revocation is seen committed: the moment a revocation committed
        // apart from its CRL would be caught without one.
        for round in 0..<6 {
            let batch = Array(serials[(round * 15)..<(round * 15 + 15)])
            let before = try await observer.store.revokedCertificates(notExpiredAt: .distantPast).count
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["certificate", "revoke", "--reason", "keyCompromise"] + batch + common
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<3_000 where process.isRunning {       // bounded: at most about 10 s
                if try await observer.store.revokedCertificates(notExpiredAt: .distantPast).count > before { break }
                try await Task.sleep(for: .milliseconds(2))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            await ExternalTool.waitForExit(process)

            let revoked = try await observer.store.revokedCertificates(notExpiredAt: .distantPast).map(\.serial)
            #expect(revoked.count > before, "round \(round): the process revoked something before it was killed")
            let der = try #require(try await observer.store.currentCRL(), "round \(round): revocations committed without any CRL").der
            let missing = revoked.filter { !Self.crl(Array(der), lists: $0) }
            #expect(missing.isEmpty, "round \(round): revoked but not on the stored CRL: \(missing)")
        }
        let verification = try await observer.verifyAuditChain()
        await observer.shutdown()
        #expect(verification.isIntact, "\(verification.problems)")
    }

    static func crl(_ der: [UInt8], lists serial: String) -> Bool {
        let digits = Array(serial)
        let bytes = stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(digits[$0...$0 + 1]), radix: 16) }
        return !bytes.isEmpty && der.count >= bytes.count && (0...(der.count - bytes.count)).contains { Array(der[$0..<($0 + bytes.count)]) == bytes }
    }
}
