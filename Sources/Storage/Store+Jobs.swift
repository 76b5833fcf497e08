import FluentKit
import Foundation
import SQLKit

extension Store {
    /// Claims one run of the background job `name` when it is due at `time`, and makes it due again
    /// `interval` later. Call it first in the transaction that does the work: on PostgreSQL the
    /// job's row stays locked until that transaction ends, and another instance asking meanwhile
    /// skips it (`FOR UPDATE SKIP LOCKED`) instead of waiting; once committed, the next due time
    /// is in the future for everyone. SQLite has one writer, so its transactions queue instead.
    /// Returns whether this caller runs the job; if the work throws, the transaction rolls back
    /// and the job stays due.
    public func claimDueJob(_ name: String, every interval: TimeInterval, at time: Date) async throws -> Bool {
        let sql = try sql
        try await sql.insert(into: "scheduled_jobs").columns("name", "due_at")
            .values(SQLBind(name), SQLBind(Date(timeIntervalSince1970: 0)))
            .ignoringConflicts(with: "name").run()
        struct Row: Decodable { let name: String }
        let select = sql.select().column("name").from("scheduled_jobs")
            .where("name", .equal, SQLBind(name)).where("due_at", .lessThanOrEqual, SQLBind(time))
        let claimed = try await (engine == .postgres ? select.lockingClause(SQLRaw("FOR UPDATE SKIP LOCKED")) : select).all(decoding: Row.self)
        guard !claimed.isEmpty else { return false }
        try await sql.update("scheduled_jobs").set("due_at", to: SQLBind(time.addingTimeInterval(interval)))
            .where("name", .equal, SQLBind(name)).run()
        return true
    }
}
