import BizDirectCore
import CertificateAuthority
import Foundation
import Policy
import Storage

extension BranchService {
    /// What an approval did: what to hand the approver, whether certificates were revoked (the
    /// CRL is then published in the same transaction), and whom it concerned, for the audit event.
    struct Applied: Sendable {
        var result: BranchDecision
        var revoked: Bool
        var subject: String
    }

    /// The changes of one approved request, inside the approval's transaction. `approverHalf` is
    /// the approver's half of a staff member's one-time code, for the kinds that split one.
    func apply(_ kind: BranchRequestKind, request: BranchRequestModel, approverHalf: String?, by staff: StaffActor,
               tx: Store, at now: Date) async throws -> Applied {
        if kind.isStaffRequest { return try await applyStaff(kind, request: request, approverHalf: approverHalf, tx: tx, at: now) }
        guard let contract = try await tx.contract(request.contractID) else {
            throw BizDirectError.notFound("contract.unknown", "No contract has this ID.")
        }
        var applied = Applied(result: .done, revoked: false, subject: contract.contractID)
        switch kind {
        case .onboarding:
            guard let pinHash = request.pinHash, let confirmationHash = request.confirmationPINHash else {
                throw BizDirectError.conflict("request.noPINs", "This onboarding holds no provisional PINs; record it again.")
            }
            contract.status = "active"
            try await tx.save(contract)
            let administrator = try await tx.insertHolder(
                role: .administrator, scope: contract.contractID, loginID: "admin", name: contract.administratorName,
                pinHash: pinHash, confirmationPINHash: confirmationHash,
                acquisitionOpenUntil: now.addingTimeInterval(AcquisitionPolicy.window), at: now)
            administrator.mustChangePIN = true
            try await tx.update(administrator)
            applied.result = .card(try await newCard(contract, tx: tx, by: staff, at: now, deadline: now.addingTimeInterval(AcquisitionPolicy.window)))
        case .lockRelease:
            contract.lockedAt = nil
            try await tx.save(contract)
            for holder in try await tx.holders(scope: contract.contractID) {
                holder.releaseLock()
                try await tx.update(holder)
            }
        case .certificateReissue:
            guard let administrator = try await tx.holder(scope: contract.contractID, loginID: "admin") else {
                throw BizDirectError.notFound("contract.noAdministrator", "This contract has no administrator.")
            }
            applied.revoked = !(try await tx.revokeActiveCertificates(holderID: try administrator.requireID(), reason: RevocationReason.superseded.rawValue, at: now)).isEmpty
            administrator.openAcquisitionWindow(until: now.addingTimeInterval(AcquisitionPolicy.window))
            try await tx.update(administrator)
        case .cardReissue:
            try await invalidateCards(contract.contractID, tx: tx, at: now)
            applied.result = .card(try await newCard(contract, tx: tx, by: staff, at: now, deadline: nil))
        case .staffAdd, .staffRole, .staffUnlock, .staffReissue, .staffDeactivate:
            throw BizDirectError.internal("request.kindUnknown", "A staff request reached the contract changes.")
        }
        return applied
    }

    func invalidateCards(_ contractID: String, tx: Store, at now: Date) async throws {
        for card in try await tx.cards(contractID: contractID) where card.status != "invalidated" {
            card.status = "invalidated"
            card.invalidatedAt = now
            try await tx.update(card)
        }
    }

    /// Makes the contract's next card and prints it once: the grid goes to the approving
    /// supervisor's screen and nowhere else, and the printing is audited. The contract row is
    /// locked by the approval, so the card number cannot collide.
    private func newCard(_ contract: ContractModel, tx: Store, by staff: StaffActor, at now: Date, deadline: Date?) async throws -> PrintableCard {
        let grid = CardGrid.random(random)
        let sequence = try await tx.cards(contractID: contract.contractID).count + 1
        let cardNumber = "\(contract.contractID)-\(sequence < 10 ? "0" : "")\(sequence)"
        _ = try await tx.insertCard(contractID: contract.contractID, cardNumber: cardNumber,
                                    gridCiphertext: try vault.seal(grid, cardNumber: cardNumber), at: now)
        try await tx.appendAudit(event(staff, "card.print", cardNumber, .allowed), at: now)
        return PrintableCard(contractID: contract.contractID, companyName: contract.companyName, administratorName: contract.administratorName,
                             cardNumber: cardNumber, grid: grid, acquisitionDeadline: deadline)
    }

    /// Throws (and audits the refusal) unless `decision` allows.
    func require(_ decision: Decision, _ staff: StaffActor, action: String, target: String) async throws {
        guard case .deny(let reason) = decision else { return }
        try await deny(staff, action: action, target: target, reason: reason)
        switch reason {
        case "request.alreadyDecided", "request.contractChanged":
            throw BizDirectError.conflict(reason, "This request was already decided, or its contract changed since it was recorded.")
        case "staff.self":
            throw BizDirectError.forbidden(reason, "Another supervisor must do this for you.")
        default:
            throw BizDirectError.forbidden(reason, "A different supervisor must approve requests; staff may not approve their own.")
        }
    }

    func deny(_ staff: StaffActor, action: String, target: String, reason: String) async throws {
        try await store.appendAudit(event(staff, action, target, .denied(reason)), at: clock.now())
    }

    func event(_ staff: StaffActor, _ action: String, _ target: String, _ outcome: AuditEvent.Outcome) -> AuditEvent {
        AuditEvent(actor: staff.auditName, action: action, target: target, outcome: outcome,
                   clientAddress: staff.clientAddress, certificateSerial: staff.certificateSerial)
    }

    /// A random 10-digit body that does not start with 0.
    static func contractBody(_ bytes: [UInt8]) -> String {
        let value = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return String(1_000_000_000 + value % 9_000_000_000)
    }

}
