import BizDirectCore
import CertificateAuthority
import Foundation
import Policy
import Storage

/// The branch's workflows: onboarding, the three paper forms, and the two-person rule. Every
/// step is audited; every approval's changes happen in one transaction.
public struct BranchService: Sendable {
    let store: Store
    let certificates: CertificateService
    let hasher: PINHasher
    let vault: CardVault
    let clock: any WallClock
    let random: any RandomSource

    /// Registers a contract (pending until a supervisor approves) and its onboarding request.
    public func recordOnboarding(_ request: RecordOnboardingRequest, by staff: StaffActor) async throws -> (contractID: String, requestID: UUID) {
        let fields = [request.companyName, request.branch, request.administratorName].map(TextNormaliser.normalise)
        try await require(BranchPolicy.mayRecord(role: staff.role), staff, action: "contract.record", target: "-")
        guard fields.allSatisfy({ !$0.isEmpty && $0.count <= 100 }) else {
            try await deny(staff, action: "contract.record", target: "-", reason: "contract.fieldsMissing")
            throw BizDirectError.malformed("contract.fieldsMissing", "Enter the company name, the branch and the administrator's name.")
        }
        let now = clock.now()
        for _ in 0..<5 {
            let contractID = try ContractID(body: Self.contractBody(random.bytes(8))).digits
            do {
                return try await store.transaction { tx in
                    let contract = try await tx.insertContract(contractID: contractID, companyName: fields[0], branch: fields[1],
                                                               administratorName: fields[2], at: now)
                    let row = try await tx.insertBranchRequest(contract: contract, kind: BranchRequestKind.onboarding.rawValue,
                                                               lostCard: false, staffID: staff.staffID, at: now)
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
        guard request.kind != .onboarding else { throw BizDirectError.malformed("request.kind", "Choose a request type.") }
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
            let row = try await tx.insertBranchRequest(contract: contract, kind: request.kind.rawValue, lostCard: request.lostCard,
                                                       staffID: staff.staffID, at: now)
            if request.kind == .cardReissue && request.lostCard {
                try await invalidateCards(contractID, tx: tx, at: now)
                try await tx.appendAudit(event(staff, "card.invalidate", contractID, .allowed), at: now)
            }
            try await tx.appendAudit(event(staff, "request.record", "\(request.kind.rawValue) \(contractID)", .allowed), at: now)
            return try row.requireID()
        }
    }

    /// Approves or rejects a request. Only an approval changes anything; a new card (and, for
    /// a new contract, the initial PINs) is returned to be printed once.
    public func decide(_ decision: DecideBranchRequest, by staff: StaffActor) async throws -> PrintableCard? {
        guard let request = try await store.branchRequest(id: decision.requestID), let contract = try await store.contract(request.contractID) else {
            throw BizDirectError.notFound("request.unknown", "This request does not exist.")
        }
        let action = decision.approve ? "request.approve" : "request.reject"
        let target = "\(request.kind) \(request.contractID)"
        try await require(BranchPolicy.mayDecide(status: request.status, recordedBy: request.recordedBy, decider: staff.staffID,
                                                 deciderRole: staff.role, recordedVersion: request.contractVersion,
                                                 currentVersion: contract.version), staff, action: action, target: target)
        // A stored kind this code does not know is an error, never taken for another kind.
        guard let kind = BranchRequestKind(rawValue: request.kind) else {
            throw BizDirectError.internal("request.kindUnknown", "The request's kind could not be read.")
        }
        let prepared = decision.approve ? try await prepare(kind, contract: contract) : nil
        let now = clock.now()
        let printable: PrintableCard? = try await store.transaction { tx in
            // Re-read inside the transaction: a concurrent decision must not apply twice.
            guard let fresh = try await tx.branchRequest(id: decision.requestID), fresh.status == "recorded",
                  let current = try await tx.contract(request.contractID), current.version == request.contractVersion else {
                throw BizDirectError.conflict("request.alreadyDecided", "This request was decided or its contract changed meanwhile.")
            }
            fresh.status = decision.approve ? "approved" : "rejected"
            fresh.decidedBy = staff.staffID
            fresh.decidedAt = now
            try await tx.update(fresh)
            try await tx.addRequestEvent(requestID: decision.requestID, staffID: staff.staffID, action: fresh.status, at: now)
            var printable: PrintableCard?
            if decision.approve { printable = try await apply(kind, contract: current, prepared: prepared, tx: tx, at: now) }
            try await tx.touch(current)
            try await tx.appendAudit(event(staff, action, target, .allowed), at: now)
            if decision.approve && kind == .certificateReissue { try await certificates.publishCRL(in: tx) }
            return printable
        }
        if decision.approve && kind == .certificateReissue { certificates.revocationsCommitted() }
        return printable
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
