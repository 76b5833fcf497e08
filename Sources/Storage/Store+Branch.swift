import BizDirectCore
import FluentKit
import Foundation
import SQLKit

extension Store {
    /// Creates a contract in `pending` state. Fails with `conflict` if the ID is taken.
    public func insertContract(contractID: String, companyName: String, branch: String, administratorName: String,
                               at time: Date) async throws -> ContractModel {
        let row = ContractModel()
        row.contractID = contractID
        row.companyName = companyName
        row.branch = branch
        row.administratorName = administratorName
        row.status = "pending"
        row.version = 1
        row.createdAt = time
        do {
            try await row.create(on: database)
        } catch where Self.isUniqueViolation(error) {
            throw BizDirectError.conflict("contract.idTaken", "This contract ID is already in use.")
        }
        return row
    }

    /// Contracts whose ID is `text` or whose company name contains it.
    public func searchContracts(_ text: String, limit: Int = 50) async throws -> [ContractModel] {
        try await ContractModel.query(on: database)
            .group(.or) { $0.filter(\.$contractID == text).filter(\.$companyName, .contains(inverse: false, .anywhere), text) }
            .sort(\.$companyName).limit(limit).all()
    }

    /// Saves the fields of a contract that changed (its version is raised by `claimContractVersion`).
    public func save(_ contract: ContractModel) async throws {
        try await contract.update(on: database)
    }

    /// What a new branch request holds besides its kind: for a staff request the staff ID it
    /// concerns and the change as JSON, a keyed hash of the recorder's code half, and for an
    /// onboarding the hashes of the provisional PINs.
    public struct RequestFields: Sendable {
        public var subject: String?
        public var details: String?
        public var codeHalfHash: String?
        public var pinHash: String?
        public var confirmationPINHash: String?
        public var lostCard = false
        public init(subject: String? = nil, details: String? = nil, codeHalfHash: String? = nil, pinHash: String? = nil,
                    confirmationPINHash: String? = nil, lostCard: Bool = false) {
            self.subject = subject
            self.details = details
            self.codeHalfHash = codeHalfHash
            self.pinHash = pinHash
            self.confirmationPINHash = confirmationPINHash
            self.lostCard = lostCard
        }
    }

    /// Records a branch request with its first history step. `contract` is nil for a staff request.
    public func insertBranchRequest(contract: ContractModel?, kind: String, fields: RequestFields, staffID: String,
                                    at time: Date) async throws -> BranchRequestModel {
        let row = BranchRequestModel()
        row.contractID = contract?.contractID ?? ""
        row.kind = kind
        row.status = "recorded"
        row.recordedBy = staffID
        row.contractVersion = contract?.version ?? 0
        row.lostCard = fields.lostCard
        row.subject = fields.subject
        row.details = fields.details
        row.codeHalfHash = fields.codeHalfHash
        row.pinHash = fields.pinHash
        row.confirmationPINHash = fields.confirmationPINHash
        row.createdAt = time
        try await row.create(on: database)
        try await addRequestEvent(requestID: try row.requireID(), staffID: staffID, action: "recorded", at: time)
        return row
    }

    /// Decides a request if it is still recorded, in one conditional update: of two concurrent
    /// decisions exactly one changes the row. False when it was decided meanwhile.
    public func claimDecision(requestID: UUID, status: String, decidedBy: String, reason: String?, at time: Date) async throws -> Bool {
        struct Row: Decodable { let id: UUID }
        let rows = try await sql.update(BranchRequestModel.schema)
            .set(SQLIdentifier("status"), to: SQLBind(status))
            .set(SQLIdentifier("decided_by"), to: SQLBind(decidedBy))
            .set(SQLIdentifier("decided_at"), to: SQLBind(time))
            .set(SQLIdentifier("refusal_reason"), to: SQLBind(reason))
            // The provisional PIN hashes have served once the request is decided.
            .set(SQLIdentifier("pin_hash"), to: SQLLiteral.null)
            .set(SQLIdentifier("confirmation_pin_hash"), to: SQLLiteral.null)
            .where(SQLIdentifier("id"), .equal, SQLBind(requestID))
            .where(SQLIdentifier("status"), .equal, SQLBind("recorded"))
            .returning(SQLIdentifier("id"))
            .all(decoding: Row.self)
        return !rows.isEmpty
    }

    /// Raises a contract's version if it is still `expected`, in one conditional update that
    /// also holds the row's lock to the end of the transaction (PostgreSQL; SQLite has one writer).
    /// False when the contract changed since: two approvals recorded at one version cannot both apply.
    public func claimContractVersion(_ contractID: String, expected: Int) async throws -> Bool {
        try await updateContractVersion(contractID, to: SQLRaw("version + 1"), ifVersion: expected)
    }

    /// Takes the contract row's lock for the rest of the transaction (a write that changes
    /// nothing), so that a count made after it (users, cards) cannot be overtaken by another
    /// transaction's insert. Returns false when there is no such contract.
    public func lockContract(_ contractID: String) async throws -> Bool {
        try await updateContractVersion(contractID, to: SQLIdentifier("version"), ifVersion: nil)
    }

    /// `UPDATE contracts SET version = <value> WHERE contract_id = … [AND version = …]`; true when a row matched.
    private func updateContractVersion(_ contractID: String, to value: any SQLExpression, ifVersion expected: Int?) async throws -> Bool {
        struct Row: Decodable { let version: Int }
        var update = try sql.update(ContractModel.schema)
            .set(SQLIdentifier("version"), to: value)
            .where(SQLIdentifier("contract_id"), .equal, SQLBind(contractID))
        if let expected { update = update.where(SQLIdentifier("version"), .equal, SQLBind(expected)) }
        return !(try await update.returning(SQLIdentifier("version")).all(decoding: Row.self)).isEmpty
    }

    /// The next value of a named counter (1 for a new one), in one statement: concurrent callers
    /// always get different numbers.
    public func nextCounter(_ name: String) async throws -> Int {
        struct Row: Decodable { let value: Int }
        let rows = try await sql.raw("""
            INSERT INTO counters (name, value) VALUES (\(bind: name), 1)
            ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
            RETURNING value
            """).all(decoding: Row.self)
        guard let value = rows.first?.value else { throw BizDirectError.internal("storage.counter", "The counter \(name) did not answer.") }
        return value
    }

    /// Appends a step to a request's history.
    public func addRequestEvent(requestID: UUID, staffID: String, action: String, at time: Date) async throws {
        let row = BranchRequestEventModel()
        row.requestID = requestID
        row.staffID = staffID
        row.action = action
        row.at = time
        try await row.create(on: database)
    }

    /// A request by id.
    public func branchRequest(id: UUID) async throws -> BranchRequestModel? {
        try await BranchRequestModel.find(id, on: database)
    }

    /// Saves a request's decision.
    public func update(_ request: BranchRequestModel) async throws {
        try await request.update(on: database)
    }

    /// A contract's requests, newest first.
    public func branchRequests(contractID: String) async throws -> [BranchRequestModel] {
        try await BranchRequestModel.query(on: database).filter(\.$contractID == contractID).sort(\.$createdAt, .descending).all()
    }

    /// Requests waiting for a decision, oldest first.
    public func pendingBranchRequests(limit: Int = 100) async throws -> [BranchRequestModel] {
        try await BranchRequestModel.query(on: database).filter(\.$status == "recorded").sort(\.$createdAt, .ascending).limit(limit).all()
    }

    /// The history of these requests, oldest first.
    public func requestEvents(requestIDs: [UUID]) async throws -> [BranchRequestEventModel] {
        try await BranchRequestEventModel.query(on: database).filter(\.$requestID ~~ requestIDs).sort(\.$at, .ascending).all()
    }

    /// Stores a new customer card.
    public func insertCard(contractID: String, cardNumber: String, gridCiphertext: [UInt8], at time: Date) async throws -> CustomerCardModel {
        let row = CustomerCardModel()
        row.contractID = contractID
        row.cardNumber = cardNumber
        row.gridCiphertext = Data(gridCiphertext)
        row.status = "issued"
        row.issuedAt = time
        try await row.create(on: database)
        return row
    }

    /// A contract's cards, newest first.
    public func cards(contractID: String) async throws -> [CustomerCardModel] {
        try await CustomerCardModel.query(on: database).filter(\.$contractID == contractID).sort(\.$issuedAt, .descending).all()
    }

    /// Saves a card's status.
    public func update(_ card: CustomerCardModel) async throws {
        try await card.update(on: database)
    }
}
