import BizDirectCore
import CertificateAuthority
import Foundation
import Policy
import Storage

extension BranchService {
    /// Work done before the transaction because it is slow (PIN hashing) or random.
    struct Prepared: Sendable {
        var contractPIN: String?
        var confirmationPIN: String?
        var contractPINHash: String?
        var confirmationPINHash: String?
    }

    func prepare(_ kind: BranchRequestKind, contract: ContractModel) async throws -> Prepared {
        guard kind == .onboarding else { return Prepared() }
        let pin = Self.initialPIN(random.bytes(8)), confirmation = Self.initialPIN(random.bytes(8))
        return Prepared(contractPIN: pin, confirmationPIN: confirmation,
                        contractPINHash: try await hasher.hash(PIN(pin)), confirmationPINHash: try await hasher.hash(PIN(confirmation)))
    }

    /// The changes of one approved request, inside the approval's transaction.
    func apply(_ kind: BranchRequestKind, contract: ContractModel, prepared: Prepared?, tx: Store, at now: Date) async throws -> PrintableCard? {
        switch kind {
        case .onboarding:
            contract.status = "active"
            let administrator = try await tx.insertHolder(
                role: .administrator, scope: contract.contractID, loginID: "admin", name: contract.administratorName,
                pinHash: prepared?.contractPINHash, confirmationPINHash: prepared?.confirmationPINHash,
                acquisitionOpenUntil: now.addingTimeInterval(AcquisitionPolicy.window), at: now)
            administrator.mustChangePIN = true
            try await tx.update(administrator)
            return try await newCard(contract, tx: tx, at: now, prepared: prepared)
        case .lockRelease:
            contract.lockedAt = nil
            for holder in try await tx.holders(scope: contract.contractID) {
                holder.releaseLock()
                try await tx.update(holder)
            }
            return nil
        case .certificateReissue:
            guard let administrator = try await tx.holder(scope: contract.contractID, loginID: "admin") else {
                throw BizDirectError.notFound("contract.noAdministrator", "This contract has no administrator.")
            }
            _ = try await tx.revokeActiveCertificates(holderID: try administrator.requireID(), reason: RevocationReason.superseded.rawValue, at: now)
            administrator.openAcquisitionWindow(until: now.addingTimeInterval(AcquisitionPolicy.window))
            try await tx.update(administrator)
            return nil
        case .cardReissue:
            try await invalidateCards(contract.contractID, tx: tx, at: now)
            return try await newCard(contract, tx: tx, at: now, prepared: nil)
        }
    }

    func invalidateCards(_ contractID: String, tx: Store, at now: Date) async throws {
        for card in try await tx.cards(contractID: contractID) where card.status != "invalidated" {
            card.status = "invalidated"
            card.invalidatedAt = now
            try await tx.update(card)
        }
    }

    private func newCard(_ contract: ContractModel, tx: Store, at now: Date, prepared: Prepared?) async throws -> PrintableCard {
        let grid = CardGrid.random(random)
        let sequence = try await tx.cards(contractID: contract.contractID).count + 1
        let cardNumber = "\(contract.contractID)-\(sequence < 10 ? "0" : "")\(sequence)"
        _ = try await tx.insertCard(contractID: contract.contractID, cardNumber: cardNumber,
                                    gridCiphertext: try vault.seal(grid, cardNumber: cardNumber), at: now)
        return PrintableCard(contractID: contract.contractID, companyName: contract.companyName, administratorName: contract.administratorName,
                             cardNumber: cardNumber, grid: grid, initialContractPIN: prepared?.contractPIN,
                             initialConfirmationPIN: prepared?.confirmationPIN,
                             acquisitionDeadline: prepared == nil ? nil : now.addingTimeInterval(AcquisitionPolicy.window))
    }

    /// Throws (and audits the refusal) unless `decision` allows.
    func require(_ decision: Decision, _ staff: StaffActor, action: String, target: String) async throws {
        guard case .deny(let reason) = decision else { return }
        try await deny(staff, action: action, target: target, reason: reason)
        switch reason {
        case "request.alreadyDecided", "request.contractChanged":
            throw BizDirectError.conflict(reason, "This request was already decided, or its contract changed since it was recorded.")
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

    /// An 8-character one-time PIN with letters and digits (no look-alikes), meeting PINPolicy.
    static func initialPIN(_ bytes: [UInt8]) -> String {
        let letters = Array("abcdefghjkmnpqrstuvwxyz"), digits = Array("23456789")
        var characters = bytes.enumerated().map { index, byte in
            index % 2 == 0 ? letters[Int(byte) % letters.count] : digits[Int(byte) % digits.count]
        }
        characters.swapAt(0, Int(bytes[0]) % characters.count)
        return String(characters)
    }
}
