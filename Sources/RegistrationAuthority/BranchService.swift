import BizDirectCore
import CertificateAuthority
import Foundation
import Policy
import Storage

/// The branch's workflows: onboarding, the three paper forms, the staff requests, and the
/// two-person rule with split knowledge. Every request is recorded by one staff member and
/// approved, with their PIN, by another supervisor; no one person sees or chooses all of a
/// secret that acquires a certificate. Every step is audited; every approval's changes happen
/// in one transaction, which two concurrent approvals cannot both pass.
public struct BranchService: Sendable {
    let store: Store
    let certificates: CertificateService
    let logon: LogonService
    let hasher: PINHasher
    let vault: CardVault
    let clock: any WallClock
    let random: any RandomSource

    /// Registers a contract (pending until a supervisor approves) and its onboarding request,
    /// with the provisional PINs from the application, hashed at once and never shown again.
    public func recordOnboarding(_ request: RecordOnboardingRequest, by staff: StaffActor) async throws -> (contractID: String, requestID: UUID) {
        let fields = [request.companyName, request.branch, request.administratorName].map(TextNormaliser.normalise)
        try await require(BranchPolicy.mayRecord(role: staff.role), staff, action: "contract.record", target: "-")
        guard fields.allSatisfy({ !$0.isEmpty && $0.count <= 100 }) else {
            try await deny(staff, action: "contract.record", target: "-", reason: "contract.fieldsMissing")
            throw BizDirectError.malformed("contract.fieldsMissing", "Enter the company name, the branch and the administrator's name.")
        }
        if case .deny(let reason) = PINPolicy.checkPair(pin: request.contractPIN, confirmation: request.confirmationPIN) {
            throw BizDirectError.malformed(reason, "A PIN has 6 to 12 letters and digits, with at least one of each; the two PINs must differ.")
        }
        let pinHash = try await hasher.hash(request.contractPIN), confirmationHash = try await hasher.hash(request.confirmationPIN)
        let now = clock.now()
        for _ in 0..<5 {
            let contractID = try ContractID(body: Self.contractBody(random.bytes(8))).digits
            do {
                return try await store.transaction { tx in
                    let contract = try await tx.insertContract(contractID: contractID, companyName: fields[0], branch: fields[1],
                                                               administratorName: fields[2], at: now)
                    let row = try await tx.insertBranchRequest(contract: contract, kind: BranchRequestKind.onboarding.rawValue,
                                                               fields: .init(pinHash: pinHash, confirmationPINHash: confirmationHash),
                                                               staffID: staff.staffID, at: now)
                    try await tx.appendAudit(event(staff, "contract.record", contractID, .allowed), at: now)
                    return (contractID, try row.requireID())
                }
            } catch let error as BizDirectError where error.reason == "contract.idTaken" {
                continue
            }
        }
        throw BizDirectError.internal("contract.idExhausted", "No free contract ID was found; try again.")
    }

    /// Records one of the three paper forms for an active contract.
    public func record(_ request: RecordBranchRequest, by staff: StaffActor) async throws -> UUID {
        try await require(BranchPolicy.mayRecord(role: staff.role), staff, action: "request.record", target: request.contractID)
        guard request.kind != .onboarding, !request.kind.isStaffRequest else { throw BizDirectError.malformed("request.kind", "Choose a request type.") }
        let contractID: String
        do {
            contractID = try ContractID(parsing: request.contractID).digits
        } catch {
            try await deny(staff, action: "request.record", target: "-", reason: error.reason)
            throw error
        }
        let now = clock.now()
        return try await store.transaction { tx in
            guard let contract = try await tx.contract(contractID), contract.status == "active" else {
                throw BizDirectError.notFound("contract.unknown", "No active contract has this ID.")
            }
            let row = try await tx.insertBranchRequest(contract: contract, kind: request.kind.rawValue, fields: .init(lostCard: request.lostCard),
                                                       staffID: staff.staffID, at: now)
            if request.kind == .cardReissue && request.lostCard {
                try await invalidateCards(contractID, tx: tx, at: now)
                try await tx.appendAudit(event(staff, "card.invalidate", contractID, .allowed), at: now)
            }
            try await tx.appendAudit(event(staff, "request.record", "\(request.kind.rawValue) \(contractID)", .allowed), at: now)
            return try row.requireID()
        }
    }

    /// Approves or refuses a request, confirmed with the deciding supervisor's PIN (wrong PINs
    /// count towards their lock). A refusal needs a reason. Only an approval changes anything;
    /// what it hands over (a card to print, or the approver's half of a staff member's code) is
    /// returned once. Of two concurrent decisions only one applies: the request is claimed, and
    /// the contract's version raised, by conditional updates in the deciding transaction.
    public func decide(_ decision: DecideBranchRequest, by staff: StaffActor) async throws -> BranchDecision {
        guard let request = try await store.branchRequest(id: decision.requestID) else {
            throw BizDirectError.notFound("request.unknown", "This request does not exist.")
        }
        // A stored kind this code does not know is an error, never taken for another kind.
        guard let kind = BranchRequestKind(rawValue: request.kind) else {
            throw BizDirectError.internal("request.kindUnknown", "The request's kind could not be read.")
        }
        let contract = kind.isStaffRequest ? nil : try await store.contract(request.contractID)
        guard kind.isStaffRequest || contract != nil else { throw BizDirectError.notFound("request.unknown", "This request does not exist.") }
        let action = decision.approve ? "request.approve" : "request.reject"
        let target = "\(kind.rawValue) \(request.subject ?? request.contractID)"
        try await require(BranchPolicy.mayDecide(status: request.status, recordedBy: request.recordedBy, decider: staff.staffID,
                                                 deciderRole: staff.role, recordedVersion: request.contractVersion,
                                                 currentVersion: contract?.version ?? 0, subject: request.subject,
                                                 approving: decision.approve),
                          staff, action: action, target: target)
        let reason = TextNormaliser.normalise(decision.reason)
        guard decision.approve || (!reason.isEmpty && reason.count <= 200) else {
            throw BizDirectError.malformed("request.reasonMissing", "Give the reason for refusing (up to 200 characters).")
        }
        try await confirm(staff, pin: decision.pin)
        // Random, so made before the transaction: the approver's half of a staff member's code.
        let approverHalf = decision.approve && kind.splitsCode ? AcquisitionCode.half(random.bytes(5)) : nil
        let now = clock.now()
        let (result, revoked): (BranchDecision, Bool) = try await store.transaction { tx in
            let status = decision.approve ? "approved" : "rejected"
            guard try await tx.claimDecision(requestID: decision.requestID, status: status, decidedBy: staff.staffID,
                                             reason: decision.approve ? nil : reason, at: now) else {
                throw BizDirectError.conflict("request.alreadyDecided", "This request was decided meanwhile.")
            }
            if let contract, decision.approve {
                guard try await tx.claimContractVersion(contract.contractID, expected: request.contractVersion) else {
                    throw BizDirectError.conflict("request.contractChanged", "This request's contract changed since it was recorded; record it again.")
                }
            }
            try await tx.addRequestEvent(requestID: decision.requestID, staffID: staff.staffID,
                                         action: decision.approve ? status : "\(status): \(reason)", at: now)
            var applied = Applied(result: .done, revoked: false, subject: request.subject ?? request.contractID)
            if decision.approve {
                applied = try await apply(kind, request: request, approverHalf: approverHalf, by: staff, tx: tx, at: now)
            }
            try await tx.appendAudit(event(staff, action, "\(kind.rawValue) \(applied.subject)", .allowed), at: now)
            if applied.revoked { try await certificates.publishCRL(in: tx) }
            return (applied.result, applied.revoked)
        }
        if revoked { certificates.revocationsCommitted() }
        return result
    }

    /// The deciding supervisor confirms with their own PIN, counted like a logon PIN.
    func confirm(_ staff: StaffActor, pin: PIN) async throws {
        guard let holder = try await store.holder(id: staff.holderID) else {
            throw BizDirectError.unauthenticated("pin.wrong", "The PIN is not correct.")
        }
        try await logon.attempt(holder, action: "request.confirm", clientAddress: staff.clientAddress, certificateSerial: staff.certificateSerial) {
            try await hasher.verify(pin, against: holder.pinHash)
        }
    }

    /// Marks the newest issued card as sent by post; the customer expects it in 2–3 weeks.
    public func markCardSent(contractID: String, by staff: StaffActor) async throws {
        try await require(BranchPolicy.mayRecord(role: staff.role), staff, action: "card.send", target: contractID)
        let now = clock.now()
        try await store.transaction { tx in
            guard let card = try await tx.cards(contractID: contractID).first(where: { $0.status == "issued" }) else {
                throw BizDirectError.conflict("card.noneToSend", "There is no issued card waiting to be sent.")
            }
            card.status = "sent"
            card.sentAt = now
            try await tx.update(card)
            try await tx.appendAudit(event(staff, "card.send", "\(contractID) \(card.cardNumber)", .allowed), at: now)
        }
    }
}
