import BizDirectCore
import FluentKit
import Foundation

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

    /// Saves a contract, raising its version (for optimistic checks).
    public func touch(_ contract: ContractModel) async throws {
        contract.version += 1
        try await contract.update(on: database)
    }

    /// Records a branch request with its first history step.
    public func insertBranchRequest(contract: ContractModel, kind: String, lostCard: Bool, staffID: String, at time: Date) async throws -> BranchRequestModel {
        let row = BranchRequestModel()
        row.contractID = contract.contractID
        row.kind = kind
        row.status = "recorded"
        row.recordedBy = staffID
        row.contractVersion = contract.version
        row.lostCard = lostCard
        row.createdAt = time
        try await row.create(on: database)
        try await addRequestEvent(requestID: try row.requireID(), staffID: staffID, action: "recorded", at: time)
        return row
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
