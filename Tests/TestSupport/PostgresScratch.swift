import FluentKit
import Foundation
import Logging
import SQLKit
import Storage

/// Makes a throw-away PostgreSQL database per test, so tests never share state.
enum PostgresScratch {
    static func createDatabase(baseURL: String) async throws -> String {
        let name = "bizdirect_test_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        let admin = try await StorageDatabase.openWithoutMigrating(url: baseURL, logger: TestDatabase.logger)
        defer { Task { await admin.shutdown() } }
        guard let sql = admin.database as? any SQLDatabase else { throw CancellationError() }
        try await sql.raw("CREATE DATABASE \(unsafeRaw: name)").run()
        await admin.shutdown()
        guard var components = URLComponents(string: baseURL) else { throw CancellationError() }
        components.path = "/" + name
        return components.string!
    }
}
