import BizDirectCore
import FluentKit
import Foundation
import SQLKit

extension Store {
    /// Creates a holder (administrator, user or staff member).
    public func insertHolder(role: Role, scope: String, loginID: String, name: String, pinHash: String?,
                             confirmationPINHash: String? = nil, acquisitionCodeHash: String? = nil,
                             acquisitionOpenUntil: Date? = nil, at time: Date) async throws -> HolderModel {
        let row = HolderModel()
        row.role = role.rawValue
        row.scope = scope
        row.loginID = loginID
        row.name = name
        row.pinHash = pinHash
        row.confirmationPINHash = confirmationPINHash
        row.failureCount = 0
        row.acquisitionFailures = 0
        row.mustChangePIN = false
        row.acquisitionCodeHash = acquisitionCodeHash
        row.acquisitionOpenUntil = acquisitionOpenUntil
        row.createdAt = time
        do {
            try await row.create(on: database)
        } catch where Self.isUniqueViolation(error) {
            throw BizDirectError.conflict("holder.duplicate", "This ID is already in use.")
        }
        return row
    }

    /// The holder with this id.
    public func holder(id: UUID) async throws -> HolderModel? {
        try await HolderModel.find(id, on: database)
    }

    /// The holders with these ids.
    public func holders(ids: [UUID]) async throws -> [HolderModel] {
        try await HolderModel.query(on: database).filter(\.$id ~~ ids).all()
    }

    /// The holder with this login ID in `scope` (a contract ID, or "bank" for staff).
    public func holder(scope: String, loginID: String) async throws -> HolderModel? {
        try await HolderModel.query(on: database).filter(\.$scope == scope).filter(\.$loginID == loginID).first()
    }

    /// Every holder with a role in `scope`.
    public func holders(scope: String) async throws -> [HolderModel] {
        try await HolderModel.query(on: database).filter(\.$scope == scope).sort(\.$loginID).all()
    }

    /// The holder whose one-time acquisition code has this keyed hash.
    public func holder(acquisitionCodeHash: String) async throws -> HolderModel? {
        try await HolderModel.query(on: database).filter(\.$acquisitionCodeHash == acquisitionCodeHash).first()
    }

    /// Closes a holder's acquisition window if it is still open; false when it was already used.
    public func closeAcquisitionWindow(holderID: UUID) async throws -> Bool {
        struct Row: Decodable { let id: UUID }
        let rows = try await sql.update(HolderModel.schema)
            .set(SQLIdentifier("acquisition_open_until"), to: SQLLiteral.null)
            .set(SQLIdentifier("acquisition_code_hash"), to: SQLLiteral.null)
            .where(SQLIdentifier("id"), .equal, SQLBind(holderID))
            .where(SQLIdentifier("acquisition_open_until"), .isNot, SQLLiteral.null)
            .returning(SQLIdentifier("id"))
            .all(decoding: Row.self)
        return !rows.isEmpty
    }

    /// Number of active (not deactivated) supervisors.
    public func activeSupervisorCount() async throws -> Int {
        try await HolderModel.query(on: database).filter(\.$scope == "bank").filter(\.$role == Role.supervisor.rawValue)
            .filter(\.$deletedAt == nil).count()
    }

    /// Stores the PIN a holder chose while acquiring a certificate: nobody else ever knew it, so
    /// it need not be changed at the next logon, and no earlier wrong guess counts against it.
    public func setChosenPIN(holderID: UUID, pinHash: String) async throws {
        try await HolderModel.query(on: database).filter(\.$id == holderID)
            .set(\.$pinHash, to: pinHash).set(\.$mustChangePIN, to: false).set(\.$failureCount, to: 0).update()
    }

    /// Saves changes to a holder.
    public func update(_ holder: HolderModel) async throws {
        try await holder.update(on: database)
    }
}
