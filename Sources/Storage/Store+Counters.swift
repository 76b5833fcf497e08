import BizDirectCore
import FluentKit
import Foundation
import SQLKit

extension Store {
    /// Raises a holder's failure counter by one, atomically and before the secret is checked,
    /// unless it already stands at `limit`. Returns the new count, or nil when the holder was
    /// already at the limit (locked) and nothing was raised.
    public func raiseFailureCount(holderID: UUID, limit: Int) async throws -> Int? {
        struct Row: Decodable { let failure_count: Int }
        let rows = try await sql.update(HolderModel.schema)
            .set(SQLIdentifier("failure_count"), to: SQLRaw("failure_count + 1"))
            .where(SQLIdentifier("id"), .equal, SQLBind(holderID))
            .where(SQLIdentifier("failure_count"), .lessThan, SQLBind(limit))
            .returning(SQLIdentifier("failure_count"))
            .all(decoding: Row.self)
        return rows.first?.failure_count
    }

    /// Gives back one counted attempt (the answer was right); never below zero.
    public func lowerFailureCount(holderID: UUID) async throws {
        try await sql.update(HolderModel.schema)
            .set(SQLIdentifier("failure_count"), to: SQLRaw("failure_count - 1"))
            .where(SQLIdentifier("id"), .equal, SQLBind(holderID))
            .where(SQLIdentifier("failure_count"), .greaterThan, SQLBind(0))
            .run()
    }

    /// Clears a holder's failure counter: only a completed logon or an explicit unlock does this.
    public func resetFailureCount(holderID: UUID) async throws {
        try await HolderModel.query(on: database).filter(\.$id == holderID).set(\.$failureCount, to: 0).update()
    }

    /// Marks a holder locked (and, for an administrator, the whole contract), and ends the live
    /// sessions it covers: the holder's, and for an administrator every user's of the contract.
    public func lock(holder: HolderModel, at time: Date) async throws {
        try await HolderModel.query(on: database).filter(\.$id == holder.requireID()).set(\.$lockedAt, to: time).update()
        let covered = holder.role == Role.administrator.rawValue ? try await holderIDs(contractID: holder.scope) : [try holder.requireID()]
        try await endSessions(holderIDs: covered, reason: "session.locked")
        if holder.role == Role.administrator.rawValue {
            // The version rises so that a branch request recorded before the lock cannot be approved blind.
            try await sql.update(ContractModel.schema)
                .set(SQLIdentifier("locked_at"), to: SQLBind(time))
                .set(SQLIdentifier("version"), to: SQLRaw("version + 1"))
                .where(SQLIdentifier("contract_id"), .equal, SQLBind(holder.scope))
                .run()
        }
    }

    /// The contract with this ID.
    public func contract(_ contractID: String) async throws -> ContractModel? {
        try await ContractModel.query(on: database).filter(\.$contractID == contractID).first()
    }
}
