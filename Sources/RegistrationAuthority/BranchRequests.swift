import BizDirectCore
import Foundation

/// The staff member acting, as the web front end identified them (certificate + PIN session).
public struct StaffActor: Sendable {
    /// The holder id.
    public let holderID: UUID
    /// The staff ID, e.g. S0001.
    public let staffID: String
    /// clerk or supervisor.
    public let role: Role
    /// Client address, for the audit chain.
    public let clientAddress: String
    /// Serial of the certificate presented.
    public let certificateSerial: String

    /// Makes an actor.
    public init(holderID: UUID, staffID: String, role: Role, clientAddress: String, certificateSerial: String) {
        self.holderID = holderID
        self.staffID = staffID
        self.role = role
        self.clientAddress = clientAddress
        self.certificateSerial = certificateSerial
    }

    var auditName: String { "staff:\(staffID)" }
}

/// The paper forms the branch processes, contract onboarding, and the staff requests: every
/// one is recorded by one staff member and approved by another supervisor.
public enum BranchRequestKind: String, Sendable, CaseIterable {
    /// A new contract, active once approved.
    case onboarding
    /// 暗証番号閉塞解除依頼書: clears the contract's lock and failure counters.
    case lockRelease
    /// 電子証明書再発行依頼書: revokes the administrator's certificate and opens an acquisition window.
    case certificateReissue
    /// お客様カード再発行依頼書: a new card with a new grid.
    case cardReissue
    /// A new staff member with a role; they choose their PIN when they acquire their certificate.
    case staffAdd
    /// A staff member's role changes (clerk ↔ supervisor).
    case staffRole
    /// A staff member's PIN lock is released.
    case staffUnlock
    /// A staff member's certificate is revoked and a new acquisition is opened (lost or new PC).
    case staffReissue
    /// A leaver: their certificates are revoked at once and they can no longer log on or acquire.
    case staffDeactivate

    /// True for the requests about bank staff rather than a contract.
    public var isStaffRequest: Bool {
        switch self {
        case .staffAdd, .staffRole, .staffUnlock, .staffReissue, .staffDeactivate: true
        case .onboarding, .lockRelease, .certificateReissue, .cardReissue: false
        }
    }

    /// The staff requests that split a one-time acquisition code between recorder and approver.
    public var splitsCode: Bool { self == .staffAdd || self == .staffReissue }

    /// The requests recorded from the staff list about an existing member.
    public static let staffChanges: [BranchRequestKind] = [.staffRole, .staffUnlock, .staffReissue, .staffDeactivate]
}

/// A clerk registers a contract from the paper application, on which the customer wrote the
/// provisional contract PIN and confirmation PIN. The clerk types them once; they are hashed at
/// once and never shown again (the approving supervisor prints only the card).
public struct RecordOnboardingRequest: Sendable {
    /// Company name.
    public let companyName: String
    /// Branch name.
    public let branch: String
    /// The administrator's name.
    public let administratorName: String
    /// The provisional contract PIN the customer wrote on the application.
    public let contractPIN: PIN
    /// The provisional contract confirmation PIN the customer wrote on the application.
    public let confirmationPIN: PIN

    /// Makes a request.
    public init(companyName: String, branch: String, administratorName: String, contractPIN: PIN, confirmationPIN: PIN) {
        self.companyName = companyName
        self.branch = branch
        self.administratorName = administratorName
        self.contractPIN = contractPIN
        self.confirmationPIN = confirmationPIN
    }
}

/// A clerk records a paper form for a contract.
public struct RecordBranchRequest: Sendable {
    /// The contract ID as typed (checked for its check digit).
    public let contractID: String
    /// Which form.
    public let kind: BranchRequestKind
    /// For a card re-issue: the card was lost, so the old one is invalidated at once.
    public let lostCard: Bool

    /// Makes a request.
    public init(contractID: String, kind: BranchRequestKind, lostCard: Bool = false) {
        self.contractID = contractID
        self.kind = kind
        self.lostCard = lostCard
    }
}

/// A supervisor records a staff request: a new member (name and role), or a change for an
/// existing one (its staff ID, and the new role for `.staffRole`).
public struct RecordStaffRequest: Sendable {
    /// Which request (a staff kind).
    public let kind: BranchRequestKind
    /// The staff member it concerns (nil for `.staffAdd`).
    public let staffID: String?
    /// The new member's name (`.staffAdd`).
    public let name: String?
    /// The new member's role, or the new role (`.staffAdd`, `.staffRole`).
    public let role: Role?

    /// A new staff member.
    public static func add(name: String, role: Role) -> RecordStaffRequest {
        RecordStaffRequest(kind: .staffAdd, staffID: nil, name: name, role: role)
    }

    /// A change for an existing member.
    public static func change(_ kind: BranchRequestKind, staffID: String, role: Role? = nil) -> RecordStaffRequest {
        RecordStaffRequest(kind: kind, staffID: staffID, name: nil, role: role)
    }
}

/// What recording a staff request gives back: its id and, for an add or a re-issue, the
/// recorder's half of the one-time acquisition code, shown to them once.
public struct RecordedStaffRequest: Sendable {
    /// The request.
    public let requestID: UUID
    /// The recorder's half of the code (shown once; stored only as a keyed hash).
    public let codeHalf: String?
}

/// A supervisor approves or refuses a recorded request, confirming with their own PIN.
public struct DecideBranchRequest: Sendable {
    /// Which request.
    public let requestID: UUID
    /// Approve (true) or refuse (false).
    public let approve: Bool
    /// The deciding supervisor's PIN.
    public let pin: PIN
    /// Why it is refused (required to refuse).
    public let reason: String

    /// Makes a decision.
    public init(requestID: UUID, approve: Bool, pin: PIN, reason: String = "") {
        self.requestID = requestID
        self.approve = approve
        self.pin = pin
        self.reason = reason
    }
}

/// What an approval hands the approver, once.
public enum BranchDecision: Sendable {
    /// Nothing to print or hand over (a refusal, an unlock, a role change, a deactivation).
    case done
    /// The customer card to print, once (onboarding, card re-issue).
    case card(PrintableCard)
    /// The approver's half of a staff member's one-time acquisition code (staff add, re-issue).
    case codeHalf(staffID: String, half: String)
}

/// What is printed once, on approval: the customer card and, for a new contract, the covering
/// letter with the acquisition deadline. It holds no PIN: the customer chose the provisional
/// PINs on the application, and the clerk who typed them never sees the card.
public struct PrintableCard: Sendable {
    /// Contract ID.
    public let contractID: String
    /// Company name.
    public let companyName: String
    /// Administrator's name.
    public let administratorName: String
    /// Card number.
    public let cardNumber: String
    /// The grid.
    public let grid: CardGrid
    /// Until when the administrator may acquire a certificate (new contracts only).
    public let acquisitionDeadline: Date?
}

/// The change a staff request proposes, stored with it as JSON.
struct StaffRequestDetails: Codable, Sendable {
    var name: String?
    var role: String?
}
