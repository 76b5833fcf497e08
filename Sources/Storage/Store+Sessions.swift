import BizDirectCore
import FluentKit
import Foundation

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
