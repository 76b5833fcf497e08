import BizDirectCore
import Crypto
import FluentKit
import Foundation
import SQLKit

/// The stores, bound to one database handle: the shared pool, or one transaction.
///
/// Every method runs on `database`; `transaction` hands the closure a `Store` bound to the
/// transaction, so a multi-row change is written whole or not at all.
public struct Store: Sendable {
    /// The handle the methods run on.
    public let database: any Database
    let engine: StorageDatabase.Engine
    /// True for a Store bound to a transaction.
    var inTransaction = false

    init(database: any Database, engine: StorageDatabase.Engine, inTransaction: Bool = false) {
        self.database = database
        self.engine = engine
        self.inTransaction = inTransaction
    }

    /// Runs `body` in one transaction.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (Store) async throws -> T) async throws -> T {
        if inTransaction { return try await body(self) }
        return try await database.transaction { tx in
            try await body(Store(database: tx, engine: engine, inTransaction: true))
        }
    }

    /// The handle as SQLKit sees it (both drivers speak SQL).
    var sql: any SQLDatabase {
        get throws { try Self.sql(database) }
    }

    /// `database` as SQLKit sees it; anything that does not speak SQL is refused.
    static func sql(_ database: any Database) throws -> any SQLDatabase {
        guard let sql = database as? any SQLDatabase else {
            throw BizDirectError.internal("storage.sql", "The database does not speak SQL.")
        }
        return sql
    }

    /// Hex of bytes.
    public static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Hex.encode(bytes)
    }

    /// Hex SHA-256 of bytes.
    public static func sha256Hex<Bytes: DataProtocol>(_ bytes: Bytes) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// True when `error` is a unique-constraint violation on either engine.
    public static func isUniqueViolation(_ error: any Error) -> Bool {
        if let sqlError = error as? any DatabaseError, sqlError.isConstraintFailure { return true }
        let text = String(reflecting: error)
        return text.contains("UNIQUE constraint failed") || text.contains("23505") || text.contains("unique")
    }
}
