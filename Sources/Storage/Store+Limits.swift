import BizDirectCore
import FluentKit
import Foundation
import SQLKit

extension Store {
    /// Counts a wrong-attempt-to-be against an open acquisition window, atomically and before the
    /// secrets are checked: one conditional UPDATE that raises the count only while the window
    /// is open at `time` and below `limit`. Returns the new count, or nil when no window is open
    /// (or the count already stands at the limit): then nothing is counted.
    public func raiseAcquisitionFailures(holderID: UUID, limit: Int, at time: Date) async throws -> Int? {
        struct Row: Decodable { let acquisition_failures: Int }
        let rows = try await sql.update(HolderModel.schema)
            .set(SQLIdentifier("acquisition_failures"), to: SQLRaw("acquisition_failures + 1"))
            .where(SQLIdentifier("id"), .equal, SQLBind(holderID))
            .where(SQLIdentifier("acquisition_open_until"), .greaterThan, SQLBind(time))
            .where(SQLIdentifier("acquisition_failures"), .lessThan, SQLBind(limit))
            .returning(SQLIdentifier("acquisition_failures"))
            .all(decoding: Row.self)
        return rows.first?.acquisition_failures
    }

    /// Gives back the attempt counted by `raiseAcquisitionFailures` when the secrets were right.
    public func clearAcquisitionFailures(holderID: UUID) async throws {
        try await HolderModel.query(on: database).filter(\.$id == holderID).set(\.$acquisitionFailures, to: 0).update()
    }

    /// Closes the window after too many wrong attempts; the holder's logon is untouched.
    public func closeAcquisitionWindowAfterFailures(holderID: UUID) async throws {
        try await sql.update(HolderModel.schema)
            .set(SQLIdentifier("acquisition_open_until"), to: SQLLiteral.null)
            .set(SQLIdentifier("acquisition_code_hash"), to: SQLLiteral.null)
            .where(SQLIdentifier("id"), .equal, SQLBind(holderID))
            .run()
    }

    /// Counts one attempt in the fixed window of `window` seconds that contains `time`, for
    /// `bucket` (such as "acquire:contract:12345678901"), in one statement that every server
    /// process on this database shares. Returns the count in the current window, this attempt
    /// included.
    public func countAttempt(bucket: String, window: Int, at time: Date) async throws -> Int {
        struct Row: Decodable { let count: Int }
        let start = Int64(time.timeIntervalSince1970) / Int64(window) * Int64(window)
        let rows = try await sql.raw("""
            INSERT INTO rate_buckets (bucket, window_start, count) VALUES (\(bind: bucket), \(bind: start), 1)
            ON CONFLICT (bucket) DO UPDATE SET
                count = CASE WHEN rate_buckets.window_start = excluded.window_start THEN rate_buckets.count + 1 ELSE 1 END,
                window_start = excluded.window_start
            RETURNING count
            """).all(decoding: Row.self)
        return rows.first?.count ?? 1
    }

    /// Drops rate buckets whose window ended before `time` (the purge job).
    public func purgeRateBuckets(before time: Date) async throws {
        try await sql.delete(from: "rate_buckets")
            .where(SQLIdentifier("window_start"), .lessThan, SQLBind(Int64(time.timeIntervalSince1970) - 3600))
            .run()
    }

    /// Ends the live sessions of these holders with `reason`, except the one whose token hashes to
    /// `keeping`: each shows the reason at its next request.
    public func endSessions(holderIDs: [UUID], reason: String, keeping: String? = nil) async throws {
        guard !holderIDs.isEmpty else { return }
        var query = try sql.update(SessionModel.schema)
            .set(SQLIdentifier("ended_reason"), to: SQLBind(reason))
            .where(SQLIdentifier("holder_id"), .in, SQLBind.group(holderIDs))
            .where(SQLIdentifier("ended_reason"), .is, SQLLiteral.null)
        if let keeping { query = query.where(SQLIdentifier("token_hash"), .notEqual, SQLBind(keeping)) }
        try await query.run()
    }

    /// Ends the sessions bound to the certificate with this fingerprint.
    public func endSessions(certificateFingerprint: String, reason: String) async throws {
        try await sql.update(SessionModel.schema)
            .set(SQLIdentifier("ended_reason"), to: SQLBind(reason))
            .where(SQLIdentifier("certificate_fingerprint"), .equal, SQLBind(certificateFingerprint))
            .where(SQLIdentifier("ended_reason"), .is, SQLLiteral.null)
            .run()
    }

    /// The IDs of a contract's holders (administrator and users).
    public func holderIDs(contractID: String) async throws -> [UUID] {
        try await HolderModel.query(on: database).filter(\.$scope == contractID).all().compactMap(\.id)
    }

    /// Deletes sessions that ended, that were never used past `idleBefore`, or that began before
    /// `absoluteBefore`. Returns how many went.
    @discardableResult
    public func purgeSessions(idleBefore: Date, absoluteBefore: Date) async throws -> Int {
        func doomed() -> QueryBuilder<SessionModel> {
            SessionModel.query(on: database).group(.or) { group in
                group.filter(\.$endedReason != nil).filter(\.$lastSeenAt < idleBefore).filter(\.$createdAt < absoluteBefore)
            }
        }
        let count = try await doomed().count()
        if count > 0 { try await doomed().delete() }
        return count
    }

    /// The holders among `holderIDs` with at least one live (not ended) session active since `since`.
    public func holdersWithLiveSessions(_ holderIDs: [UUID], since: Date) async throws -> Set<UUID> {
        guard !holderIDs.isEmpty else { return [] }
        let rows = try await SessionModel.query(on: database).filter(\.$holderID ~~ holderIDs).filter(\.$endedReason == nil)
            .filter(\.$stage == "complete").filter(\.$lastSeenAt >= since).all()
        return Set(rows.compactMap(\.holderID))
    }
}
