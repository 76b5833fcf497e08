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
}
