import BizDirectCore
import Foundation
import Storage

/// The databases a storage contract test runs on: SQLite always, PostgreSQL when configured.
public enum TestEngine: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    /// SQLite, plus PostgreSQL when BIZDIRECT_TEST_POSTGRES_URL is set.
    public static var available: [TestEngine] {
        TestDatabase.postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    public var description: String { rawValue }

    /// Opens a fresh, migrated database of this engine in `directory`.
    public func open(in directory: TemporaryDirectory) async throws -> StorageDatabase {
        let url: String
        switch self {
        case .sqlite: url = "sqlite://" + directory.url.appendingPathComponent("contract.sqlite").path
        case .postgres: url = try await PostgresScratch.createDatabase(baseURL: TestDatabase.postgresURL!)
        }
        return try await StorageDatabase.open(url: url, logger: TestDatabase.logger)
    }
}
