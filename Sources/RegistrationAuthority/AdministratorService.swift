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

/// The administrator acting, as the web front end identified them (certificate, PIN, card).
public struct AdministratorActor: Sendable {
    /// The administrator's holder id.
    public let holderID: UUID
    /// Their contract.
    public let contractID: String
    /// Client address.
    public let clientAddress: String
    /// Serial of the certificate presented.
    public let certificateSerial: String

    /// Makes an actor.
    public init(holderID: UUID, contractID: String, clientAddress: String, certificateSerial: String) {
        self.holderID = holderID
        self.contractID = contractID
        self.clientAddress = clientAddress
        self.certificateSerial = certificateSerial
    }

    var auditName: String { "admin:\(contractID)" }
}

/// One user as the administrator's list shows them.
public struct HolderLine: Sendable {
    /// User ID, or staff ID.
    public let loginID: String
    /// Name.
    public let name: String
    /// Role.
    public let role: Role
    /// active, locked or awaitingAcquisition.
    public let status: String
    /// Current certificate serial, if any.
    public let serial: String?
    /// Its expiry.
    public let notAfter: Date?
    /// Whether the holder has a live, completed logon session now.
    public var loggedOn = false

    /// The line for a holder: locked (itself, or its whole contract), else active with a current
    /// certificate, else awaiting acquisition.
    static func of(_ holder: HolderModel, contractLocked: Bool = false, store: Store) async throws -> HolderLine {
        let current = try await store.certificates(holderID: try holder.requireID()).first { $0.status == "active" }
        let status = holder.deletedAt != nil ? "deactivated"
            : holder.lockedAt != nil || contractLocked ? "locked" : current == nil ? "awaitingAcquisition" : "active"
        return HolderLine(loginID: holder.loginID, name: holder.name, role: Role(rawValue: holder.role) ?? .user, status: status,
                          serial: current?.serial, notAfter: current?.notAfter)
    }
}

/// The administrator's work on their contract's users.
public struct AdministratorService: Sendable {
    let store: Store
    let hasher: PINHasher
    let logon: LogonService
    let clock: any WallClock
    /// Users per contract.
    let userLimit: Int
    /// The users' idle timeout: a session seen within it counts as logged on.
    let userIdleTimeout: TimeInterval

    /// Checks the contract confirmation PIN that every sensitive change asks for; wrong answers
    /// count towards the administrator's lock.
    public func confirm(_ administrator: AdministratorActor, confirmationPIN: PIN) async throws {
        guard let holder = try await store.holder(id: administrator.holderID), holder.scope == administrator.contractID,
              Role(rawValue: holder.role) == .administrator else {
            try await store.refuse("admin.only", "Only the contract's administrator can do this.", actor: administrator.auditName,
                                   action: "admin.confirm", target: administrator.contractID, clientAddress: administrator.clientAddress,
                                   certificateSerial: administrator.certificateSerial, at: clock.now())
        }
        try await logon.attempt(holder, action: "admin.confirm", clientAddress: administrator.clientAddress,
                                certificateSerial: administrator.certificateSerial) {
            try await hasher.verify(confirmationPIN, against: holder.confirmationPINHash)
        }
    }

    /// The contract's users with their status and current certificate.
    public func users(_ administrator: AdministratorActor) async throws -> [HolderLine] {
        let contractLocked = try await store.contract(administrator.contractID)?.lockedAt != nil
        let users = try await store.holders(scope: administrator.contractID).filter { $0.role == Role.user.rawValue && $0.deletedAt == nil }
        // Logged on: a completed session seen within the users' idle timeout.
        let live = try await store.holdersWithLiveSessions(users.compactMap(\.id), since: clock.now().addingTimeInterval(-userIdleTimeout))
        var lines: [HolderLine] = []
        for user in users {
            var line = try await HolderLine.of(user, contractLocked: contractLocked, store: store)
            line.loggedOn = user.id.map(live.contains) ?? false
            lines.append(line)
        }
        return lines
    }

    /// The contract's recent security events: logons, failures, issuances, re-issues.
    public func recentEvents(_ administrator: AdministratorActor, limit: Int = 30) async throws -> [[String: String]] {
        try await store.recentAuditEvents(limit: limit, mentioning: administrator.contractID).map { event in
            ["at": JapanTime.text(Date(timeIntervalSince1970: Double(event.atMilliseconds) / 1000), .stamp), "actor": event.actor,
             "action": event.action, "target": event.target, "outcome": event.outcome]
        }
    }

    /// The administrator registers a user, confirmed with the contract confirmation PIN.
    public func registerUser(_ request: RegisterUserRequest, by administrator: AdministratorActor, confirmationPIN: PIN) async throws {
        guard (try? ContractID(parsing: request.contractID).digits) == administrator.contractID else {
            try await store.refuse("admin.otherContract", "You can manage only your own contract's users.", actor: administrator.auditName,
                                   action: "user.register", target: "\(request.contractID)/\(request.userID)",
                                   clientAddress: administrator.clientAddress, certificateSerial: administrator.certificateSerial, at: clock.now())
        }
        try await confirm(administrator, confirmationPIN: confirmationPIN)
        try await registerUser(request, actor: administrator.auditName, clientAddress: administrator.clientAddress)
    }

    /// Registers a user with initial PINs (to be changed at first logon) and opens their acquisition window.
    func registerUser(_ request: RegisterUserRequest, actor: String, clientAddress: String) async throws {
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
            // The contract row's lock first: concurrent registrations then count one after another,
            // so none can pass the user limit (PostgreSQL, READ COMMITTED).
            guard try await tx.lockContract(contractID), try await tx.contract(contractID)?.status == "active" else {
                throw BizDirectError.notFound("contract.unknown", "No active contract has this ID.")
            }
            guard try await tx.holders(scope: contractID).filter({ $0.role == Role.user.rawValue && $0.deletedAt == nil }).count < userLimit else {
                throw BizDirectError.conflict("user.limit", "This contract has reached its number of users.")
            }
            let user = try await tx.insertHolder(role: .user, scope: contractID, loginID: userID, name: name, pinHash: pinHash,
                                                 confirmationPINHash: confirmationHash,
                                                 acquisitionOpenUntil: now.addingTimeInterval(AcquisitionPolicy.window), at: now)
            user.mustChangePIN = true
            try await tx.update(user)
            try await tx.appendAudit(AuditEvent(actor: actor, action: "user.register", target: "\(contractID)/\(userID)", outcome: .allowed,
                                                clientAddress: clientAddress), at: now)
        }
    }
}
