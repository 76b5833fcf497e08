import BizDirectCore
import Foundation
import Policy
import Storage

/// Register a user of a contract (ご契約先管理情報変更 → 利用者情報登録).
public struct RegisterUserRequest: Sendable {
    /// The contract.
    public let contractID: String
    /// The user ID chosen by the customer.
    public let userID: String
    /// The user's name.
    public let name: String
    /// Initial user PIN.
    public let pin: PIN
    /// Initial user confirmation PIN.
    public let confirmationPIN: PIN

    /// Makes a request.
    public init(contractID: String, userID: String, name: String, pin: PIN, confirmationPIN: PIN) {
        self.contractID = contractID
        self.userID = userID
        self.name = name
        self.pin = pin
        self.confirmationPIN = confirmationPIN
    }
}

/// The administrator's work on their contract's users.
public struct AdministratorService: Sendable {
    let store: Store
    let hasher: PINHasher
    let clock: any WallClock
    /// Users per contract.
    let userLimit: Int
    /// How long a user's acquisition window stays open.
    static let acquisitionWindow: TimeInterval = 80 * 86_400

    /// Registers a user with initial PINs (to be changed at first logon) and opens their acquisition window.
    public func registerUser(_ request: RegisterUserRequest, actor: String, clientAddress: String = "-") async throws {
        let contractID = try ContractID(parsing: request.contractID).digits
        let userID = try UserID(parsing: request.userID).value
        let name = TextNormaliser.normalise(request.name)
        guard !name.isEmpty, name.count <= 100 else { throw BizDirectError.malformed("user.name", "Enter the user's name.") }
        if case .deny(let reason) = PINPolicy.checkPair(pin: request.pin, confirmation: request.confirmationPIN) {
            throw BizDirectError.malformed(reason, "A PIN has 6 to 12 letters and digits, with at least one of each; the two PINs must differ.")
        }
        guard userID.lowercased() != "admin" else { throw BizDirectError.conflict("holder.duplicate", "This user ID is already in use.") }
        let pinHash = try await hasher.hash(request.pin), confirmationHash = try await hasher.hash(request.confirmationPIN)
        let now = clock.now()
        try await store.transaction { [userLimit] tx in
            guard try await tx.contract(contractID)?.status == "active" else {
                throw BizDirectError.notFound("contract.unknown", "No active contract has this ID.")
            }
            guard try await tx.holders(scope: contractID).filter({ $0.role == Role.user.rawValue }).count < userLimit else {
                throw BizDirectError.conflict("user.limit", "This contract has reached its number of users.")
            }
            let user = try await tx.insertHolder(role: .user, scope: contractID, loginID: userID, name: name, pinHash: pinHash,
                                                 confirmationPINHash: confirmationHash,
                                                 acquisitionOpenUntil: now.addingTimeInterval(Self.acquisitionWindow), at: now)
            user.mustChangePIN = true
            try await tx.update(user)
            try await tx.appendAudit(AuditEvent(actor: actor, action: "user.register", target: "\(contractID)/\(userID)", outcome: .allowed,
                                                clientAddress: clientAddress), at: now)
        }
    }
}
