import BizDirectCore
import FluentKit
import Foundation
import SQLKit

extension Store {
    /// Stores a new session under the hash of its token.
    public func insertSession(tokenHash: String, holderID: UUID?, certificateFingerprint: String, stage: String,
                              csrfToken: String, idleTimeout: TimeInterval, at time: Date) async throws -> SessionModel {
        let row = SessionModel()
        row.tokenHash = tokenHash
        row.holderID = holderID
        row.certificateFingerprint = certificateFingerprint
        row.stage = stage
        row.csrfToken = csrfToken
        row.idleTimeout = idleTimeout
        row.createdAt = time
        row.lastSeenAt = time
        try await row.create(on: database)
        return row
    }

    /// The session whose token hashes to `tokenHash`.
    public func session(tokenHash: String) async throws -> SessionModel? {
        try await SessionModel.query(on: database).filter(\.$tokenHash == tokenHash).first()
    }

    /// A stored session as a value, for the check on every request.
    public struct SessionRecord: Sendable {
        /// Whose session it is (nil before the certificate named anyone).
        public let holderID: UUID?
        /// SHA-256 (hex) of the certificate the session is bound to.
        public let certificateFingerprint: String
        /// The logon stage, as stored.
        public let stage: String
        /// The session's CSRF token.
        public let csrfToken: String
        /// Idle timeout in seconds.
        public let idleTimeout: Double
        /// When it started and when it was last seen.
        public let createdAt: Date, lastSeenAt: Date
        /// Why someone else ended it (lock, PIN change, revocation), if they did.
        public let endedReason: String?
    }

    /// The session whose token hashes to `tokenHash`, read with one SQL statement into a value
    /// (no Fluent model decoded by reflection: this runs on every authenticated request).
    public func sessionRecord(tokenHash: String) async throws -> SessionRecord? {
        guard let row = try await sql.select()
            .columns("holder_id", "certificate_fingerprint", "stage", "csrf_token", "idle_timeout", "created_at", "last_seen_at", "ended_reason")
            .from(SessionModel.schema).where("token_hash", .equal, SQLBind(tokenHash)).limit(1).first() else { return nil }
        return SessionRecord(holderID: try row.decode(column: "holder_id", as: UUID?.self),
                             certificateFingerprint: try row.decode(column: "certificate_fingerprint", as: String.self),
                             stage: try row.decode(column: "stage", as: String.self), csrfToken: try row.decode(column: "csrf_token", as: String.self),
                             idleTimeout: try row.decode(column: "idle_timeout", as: Double.self),
                             createdAt: try row.decode(column: "created_at", as: Date.self), lastSeenAt: try row.decode(column: "last_seen_at", as: Date.self),
                             endedReason: try row.decode(column: "ended_reason", as: String?.self))
    }

    /// Records activity on the session with `tokenHash`.
    public func touchSession(tokenHash: String, at time: Date) async throws {
        try await sql.update(SessionModel.schema).set("last_seen_at", to: SQLBind(time)).where("token_hash", .equal, SQLBind(tokenHash)).run()
    }

    /// Saves a session's changes (stage, last-seen time).
    public func update(_ session: SessionModel) async throws {
        try await session.update(on: database)
    }

    /// Deletes the session with `tokenHash`.
    public func deleteSession(tokenHash: String) async throws {
        try await SessionModel.query(on: database).filter(\.$tokenHash == tokenHash).delete()
    }

    /// How many sessions exist (for tests and operations).
    public func sessionCount() async throws -> Int {
        try await SessionModel.query(on: database).count()
    }
}
