import BizDirectCore
import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit

/// Owns the database connections: an SQLite file (default, WAL mode) or PostgreSQL.
///
/// SQLite runs on one connection, so its transactions are serialised in this process; other
/// processes wait on SQLite's own lock. PostgreSQL uses a pool on every event loop.
public final class StorageDatabase: Sendable {
    /// Which engine is in use.
    public enum Engine: Sendable { case sqlite, postgres }

    /// The engine.
    public let engine: Engine
    private let databases: Databases
    private let threadPool: NIOThreadPool
    private let eventLoop: any EventLoop
    private let logger: Logger

    /// Opens `url`: `sqlite:///path/to/file.sqlite` or a `postgres://` URL. Runs migrations.
    public static func open(url: String, logger: Logger) async throws(BizDirectError) -> StorageDatabase {
        let storage: StorageDatabase
        do {
            storage = try StorageDatabase(url: url, logger: logger)
        } catch {
            throw .internal("storage.url", "The database URL is not valid: use sqlite:///path or postgres://user@host/db.")
        }
        do {
            try await storage.prepare()
        } catch {
            await storage.shutdown()
            logger.error("database open failed", metadata: ["error": "\(String(reflecting: error))"])
            throw .internal("storage.unavailable", "The database could not be opened or migrated (\(Self.redact(url))).")
        }
        return storage
    }

    /// Opens `url` without running migrations (for administrative connections).
    public static func openWithoutMigrating(url: String, logger: Logger) async throws -> StorageDatabase {
        try StorageDatabase(url: url, logger: logger)
    }

    private init(url: String, logger: Logger) throws {
        self.logger = logger
        threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        let group = MultiThreadedEventLoopGroup.singleton
        databases = Databases(threadPool: threadPool, on: group)
        eventLoop = group.any()
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            engine = .postgres
            // Audit appends serialise on an advisory lock while holding their connection, so a
            // burst waits for the pool: 30 s, as for SQLite below, not Fluent's 10 s.
            databases.use(try .postgres(url: url, maxConnectionsPerEventLoop: 4, connectionPoolTimeout: .seconds(30)), as: .psql)
        } else if url.hasPrefix("sqlite://") {
            engine = .sqlite
            let path = String(url.dropFirst("sqlite://".count))
            // One connection serialises every transaction (SQLite has one writer anyway), so a
            // burst queues for it: allow 30 s in the queue, not Fluent's 10 s (50 concurrent audit
            // appends beside a busy test run waited longer than 10 s: StoreContractTests; the
            // serialised audit chain is a throughput limit the scale-out issue measures).
            databases.use(.sqlite(.file(path), maxConnectionsPerEventLoop: 1, connectionPoolTimeout: .seconds(30)), as: .sqlite)
        } else {
            throw BizDirectError.malformed("storage.url", "unknown scheme")
        }
    }

    /// A database handle. SQLite always uses the same event loop, hence the same connection.
    public var database: any Database {
        databases.database(logger: logger, on: engine == .sqlite ? eventLoop : MultiThreadedEventLoopGroup.singleton.any())! // safe: the default database id is registered in init
    }

    /// The stores, on the shared connection pool.
    public var store: Store { Store(database: database, engine: engine) }

    private func prepare() async throws {
        if engine == .sqlite, let sql = database as? any SQLDatabase {
            try await sql.raw("PRAGMA journal_mode=WAL").run()
            try await sql.raw("PRAGMA synchronous=FULL").run()
            try await sql.raw("PRAGMA foreign_keys=ON").run()
        }
        let migrations = Migrations()
        migrations.add(CreateSchemaV1())
        migrations.add(CreateSchemaV2())
        migrations.add(CreateSchemaV3())
        migrations.add(CreateSchemaV4())
        migrations.add(CreateSchemaV5())
        migrations.add(CreateSchemaV6())
        let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: eventLoop)
        let migrate: @Sendable () async throws -> Void = { try await migrator.setupIfNeeded().flatMap { migrator.prepareBatch() }.get() }
        guard engine == .postgres else { return try await migrate() }
        // Several instances may start at once on one PostgreSQL: one migrates while the others
        // wait on a session advisory lock, held on its own connection while the migrator uses others.
        try await database.withConnection { connection in
            guard let sql = connection as? any SQLDatabase else { return try await migrate() }
            try await sql.raw("SELECT pg_advisory_lock(\(literal: Self.migrationLockKey))").run()
            do {
                try await migrate()
            } catch {
                try? await sql.raw("SELECT pg_advisory_unlock(\(literal: Self.migrationLockKey))").run()
                throw error
            }
            try await sql.raw("SELECT pg_advisory_unlock(\(literal: Self.migrationLockKey))").run()
        }
    }

    /// The advisory-lock key that serialises migrations across instances ("BIZDMIGR").
    static let migrationLockKey: Int64 = 0x4249_5A44_4D49_4752

    /// Closes every connection.
    public func shutdown() async {
        await databases.shutdownAsync()
        try? await threadPool.shutdownGracefully()
    }

    /// The URL without its password, for messages.
    static func redact(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "database"
    }
}
