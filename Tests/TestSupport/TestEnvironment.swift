import BizDirectCore
import Foundation
import Logging
import NIOConcurrencyHelpers

/// A clock tests move by hand.
public final class ManualClock: WallClock, @unchecked Sendable {
    private let lock = NIOLock()
    private var current: Date

    /// Starts at `start` (default: the real now, rounded to a second).
    public init(_ start: Date = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded())) { current = start }

    public func now() -> Date { lock.withLock { current } }

    /// Moves time forward.
    public func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }
}

/// A fresh temporary folder, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    /// Its location.
    public let url: URL

    /// Makes a new, empty folder under the system temporary folder.
    public init(_ label: String = "bizdirect-test") {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Deletes the folder and everything in it.
    public func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Which database the suite runs on: SQLite always; PostgreSQL when BIZDIRECT_TEST_POSTGRES_URL is set.
public enum TestDatabase {
    /// The PostgreSQL server URL, if configured.
    public static var postgresURL: String? { ProcessInfo.processInfo.environment["BIZDIRECT_TEST_POSTGRES_URL"] }

    /// A database URL for one test: a new SQLite file in `directory`, or a new PostgreSQL database.
    public static func url(in directory: URL) async throws -> String {
        guard let base = postgresURL else {
            return "sqlite://" + directory.appendingPathComponent("test.sqlite").path
        }
        return try await PostgresScratch.createDatabase(baseURL: base)
    }

    /// A logger that keeps test output quiet.
    public static var logger: Logger {
        var logger = Logger(label: "bizdirect-test")
        logger.logLevel = .warning
        return logger
    }
}
