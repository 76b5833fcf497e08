import FluentKit
import Foundation

/// A customer contract (ご契約先).
public final class ContractModel: Model, @unchecked Sendable {
    public static let schema = "contracts"
    @ID(key: .id) public var id: UUID?
    /// The 11-digit contract ID.
    @Field(key: "contract_id") public var contractID: String
    @Field(key: "company_name") public var companyName: String
    @Field(key: "branch") public var branch: String
    @Field(key: "administrator_name") public var administratorName: String
    /// pending (awaiting a supervisor), active, closed.
    @Field(key: "status") public var status: String
    /// Set when the administrator is locked; locks every user of the contract.
    @OptionalField(key: "locked_at") public var lockedAt: Date?
    /// Raised by every change, for optimistic checks on approval.
    @Field(key: "version") public var version: Int
    @Field(key: "created_at") public var createdAt: Date
    public init() {}
}

/// A person who holds credentials: an administrator, a user, or bank staff.
public final class HolderModel: Model, @unchecked Sendable {
    public static let schema = "holders"
    @ID(key: .id) public var id: UUID?
    /// administrator, user, clerk or supervisor.
    @Field(key: "role") public var role: String
    /// The contract ID for customers; "bank" for staff.
    @Field(key: "scope") public var scope: String
    /// The user ID, staff ID, or "admin" for the administrator.
    @Field(key: "login_id") public var loginID: String
    @Field(key: "name") public var name: String
    @OptionalField(key: "pin_hash") public var pinHash: String?
    @OptionalField(key: "confirmation_pin_hash") public var confirmationPINHash: String?
    @Field(key: "failure_count") public var failureCount: Int
    @OptionalField(key: "locked_at") public var lockedAt: Date?
    @Field(key: "must_change_pin") public var mustChangePIN: Bool
    @OptionalField(key: "acquisition_open_until") public var acquisitionOpenUntil: Date?
    @OptionalField(key: "acquisition_code_hash") public var acquisitionCodeHash: String?
    /// The pending card challenge (administrators): cells such as "A3,C7,E1,B9", kept until answered.
    @OptionalField(key: "card_challenge") public var cardChallenge: String?
    /// Wrong acquisition attempts in the current window (not the logon counter).
    @Field(key: "acquisition_failures") public var acquisitionFailures: Int
    /// When the administrator deleted this user (the row and its ID stay, for the audit trail).
    @OptionalField(key: "deleted_at") public var deletedAt: Date?
    @Field(key: "created_at") public var createdAt: Date
    public init() {}
}

extension HolderModel {
    /// Releases the PIN lock and clears the failure counter (saved with the next update).
    public func releaseLock() {
        lockedAt = nil
        failureCount = 0
    }

    /// Opens an acquisition window until `until`, with a fresh count of wrong attempts.
    public func openAcquisitionWindow(until: Date) {
        acquisitionOpenUntil = until
        acquisitionFailures = 0
    }
}

/// A certificate the CA issued.
public final class CertificateModel: Model, @unchecked Sendable {
    public static let schema = "certificates"
    @ID(key: .id) public var id: UUID?
    /// Lowercase hex serial.
    @Field(key: "serial") public var serial: String
    @Field(key: "holder_id") public var holderID: UUID
    @Field(key: "der") public var der: Data
    @Field(key: "not_before") public var notBefore: Date
    @Field(key: "not_after") public var notAfter: Date
    /// Hex SHA-256 of the SubjectPublicKeyInfo; unique, so no key is certified twice.
    @Field(key: "spki_hash") public var spkiHash: String
    /// Hex SHA-256 of the DER, for binding sessions.
    @Field(key: "fingerprint") public var fingerprint: String
    /// active or revoked.
    @Field(key: "status") public var status: String
    @OptionalField(key: "revoked_at") public var revokedAt: Date?
    @OptionalField(key: "revocation_reason") public var revocationReason: Int?
    @Field(key: "created_at") public var createdAt: Date
    public init() {}
}

/// The current CRL and its number.
public final class CRLModel: Model, @unchecked Sendable {
    public static let schema = "crl_state"
    @ID(custom: "id", generatedBy: .user) public var id: Int?
    @Field(key: "number") public var number: Int
    @Field(key: "der") public var der: Data
    @Field(key: "this_update") public var thisUpdate: Date
    public init() {}
}

/// A web session; the token itself is never stored, only its SHA-256.
public final class SessionModel: Model, @unchecked Sendable {
    public static let schema = "sessions"
    @ID(key: .id) public var id: UUID?
    @Field(key: "token_hash") public var tokenHash: String
    @OptionalField(key: "holder_id") public var holderID: UUID?
    /// Hex SHA-256 of the client certificate the session was made with.
    @Field(key: "certificate_fingerprint") public var certificateFingerprint: String
    /// How far the logon has got: certificate, pin, card, complete.
    @Field(key: "stage") public var stage: String
    @Field(key: "csrf_token") public var csrfToken: String
    @Field(key: "idle_timeout") public var idleTimeout: Double
    @Field(key: "created_at") public var createdAt: Date
    @Field(key: "last_seen_at") public var lastSeenAt: Date
    /// Why the session was ended by something other than its holder (a lock, a PIN change, a
    /// revocation); the next request shows this reason, then the row goes.
    @OptionalField(key: "ended_reason") public var endedReason: String?
    public init() {}
}

/// One event of the append-only, hash-chained audit log.
public final class AuditEventModel: Model, @unchecked Sendable {
    public static let schema = "audit_events"
    @ID(custom: "seq", generatedBy: .user) public var id: Int?
    /// Milliseconds since 1970, kept as an integer so the hash is stable on every database.
    @Field(key: "at_ms") public var atMilliseconds: Int64
    @Field(key: "actor") public var actor: String
    @Field(key: "action") public var action: String
    @Field(key: "target") public var target: String
    @Field(key: "outcome") public var outcome: String
    @Field(key: "client_address") public var clientAddress: String
    @Field(key: "certificate_serial") public var certificateSerial: String
    @Field(key: "previous_hash") public var previousHash: String
    @Field(key: "hash") public var hash: String
    public init() {}
}

/// A paper-form request recorded at the branch.
public final class BranchRequestModel: Model, @unchecked Sendable {
    public static let schema = "branch_requests"
    @ID(key: .id) public var id: UUID?
    @Field(key: "contract_id") public var contractID: String
    /// lockRelease, certificateReissue, cardReissue, onboarding.
    @Field(key: "kind") public var kind: String
    /// recorded, approved, rejected.
    @Field(key: "status") public var status: String
    @Field(key: "recorded_by") public var recordedBy: String
    @OptionalField(key: "decided_by") public var decidedBy: String?
    @Field(key: "contract_version") public var contractVersion: Int
    /// For card re-issue: the card was lost (the old one is invalidated when recorded).
    @Field(key: "lost_card") public var lostCard: Bool
    @Field(key: "created_at") public var createdAt: Date
    @OptionalField(key: "decided_at") public var decidedAt: Date?
    /// The staff ID a staff request concerns (nil for a contract's requests).
    @OptionalField(key: "subject") public var subject: String?
    /// The change a staff request proposes, as JSON (name and role).
    @OptionalField(key: "details") public var details: String?
    /// Keyed hash of the recorder's half of the one-time acquisition code (staff add and re-issue).
    @OptionalField(key: "code_half_hash") public var codeHalfHash: String?
    /// Onboarding: hashes of the provisional PINs from the paper application (moved to the administrator).
    @OptionalField(key: "pin_hash") public var pinHash: String?
    @OptionalField(key: "confirmation_pin_hash") public var confirmationPINHash: String?
    /// Why a supervisor refused the request.
    @OptionalField(key: "refusal_reason") public var refusalReason: String?
    public init() {}
}

/// A named number that only rises (staff IDs): handed out by one conditional update.
public final class CounterModel: Model, @unchecked Sendable {
    public static let schema = "counters"
    @ID(custom: "name", generatedBy: .user) public var id: String?
    @Field(key: "value") public var value: Int
    public init() {}
    init(name: String, value: Int) {
        self.id = name
        self.value = value
    }
}

/// One step in a branch request's history: who did what, and when.
public final class BranchRequestEventModel: Model, @unchecked Sendable {
    public static let schema = "branch_request_events"
    @ID(key: .id) public var id: UUID?
    @Field(key: "request_id") public var requestID: UUID
    @Field(key: "at") public var at: Date
    @Field(key: "staff_id") public var staffID: String
    /// recorded, approved, rejected, refused:<reason>.
    @Field(key: "action") public var action: String
    public init() {}
}

/// A customer card: the contract ID and an encrypted confirmation-password grid.
public final class CustomerCardModel: Model, @unchecked Sendable {
    public static let schema = "customer_cards"
    @ID(key: .id) public var id: UUID?
    @Field(key: "contract_id") public var contractID: String
    @Field(key: "grid_ciphertext") public var gridCiphertext: Data
    /// The card number printed on it (contract ID and a sequence).
    @Field(key: "card_number") public var cardNumber: String
    /// issued, sent, invalidated.
    @Field(key: "status") public var status: String
    @Field(key: "issued_at") public var issuedAt: Date
    @OptionalField(key: "sent_at") public var sentAt: Date?
    @OptionalField(key: "invalidated_at") public var invalidatedAt: Date?
    public init() {}
}

/// A fingerprint the database is bound to: which issuing CA, TLS CA, PIN pepper and card key
/// its rows were made with (`Store.bindKey`), and the OCSP and TLS certificates last in use.
public final class KeyBindingModel: Model, @unchecked Sendable {
    public static let schema = "key_bindings"
    @ID(custom: "name", generatedBy: .user) public var id: String?
    @Field(key: "fingerprint") public var fingerprint: String
    @Field(key: "recorded_at") public var recordedAt: Date
    public init() {}
}
