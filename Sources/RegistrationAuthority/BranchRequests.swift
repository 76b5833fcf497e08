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

/// The paper forms the branch processes, and contract onboarding.
public enum BranchRequestKind: String, Sendable, CaseIterable {
    /// A new contract, active once approved.
    case onboarding
    /// 暗証番号閉塞解除依頼書: clears the contract's lock and failure counters.
    case lockRelease
    /// 電子証明書再発行依頼書: revokes the administrator's certificate and opens an acquisition window.
    case certificateReissue
    /// お客様カード再発行依頼書: a new card with a new grid.
    case cardReissue
}

/// A clerk registers a contract.
public struct RecordOnboardingRequest: Sendable {
    /// Company name.
    public let companyName: String
    /// Branch name.
    public let branch: String
    /// The administrator's name.
    public let administratorName: String

    /// Makes a request.
    public init(companyName: String, branch: String, administratorName: String) {
        self.companyName = companyName
        self.branch = branch
        self.administratorName = administratorName
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

/// A supervisor approves or rejects a recorded request.
public struct DecideBranchRequest: Sendable {
    /// Which request.
    public let requestID: UUID
    /// Approve (true) or reject (false).
    public let approve: Bool

    /// Makes a decision.
    public init(requestID: UUID, approve: Bool) {
        self.requestID = requestID
        self.approve = approve
    }
}

/// What is printed once, on approval: the customer card and, for a new contract, the initial
/// setup letter. It is never shown again.
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
    /// The one-time initial contract PIN (new contracts only).
    public let initialContractPIN: String?
    /// The one-time initial contract confirmation PIN (new contracts only).
    public let initialConfirmationPIN: String?
    /// Until when the administrator may acquire a certificate (new contracts only).
    public let acquisitionDeadline: Date?
}
