import BizDirectCore
import CertificateAuthority
import Foundation
import Policy
import Storage

/// What the administrator does to one user from the change screen.
public enum UserChange: Sendable {
    /// A new name.
    case rename(String)
    /// New PINs for a user who forgot theirs; the user must change them at the next logon.
    case setPINs(pin: PIN, confirmation: PIN)
    /// Re-issue: the current certificate is revoked at once and an acquisition window opens.
    case reissue
    /// Unlock a user locked by wrong PINs.
    case unlock
    /// Delete the user; their certificate is revoked.
    case delete
    /// End the user's live sessions (ASVS 7.4.5).
    case endSessions
}

extension AdministratorService {
    /// Applies one change to a user of the administrator's contract, confirmed with the contract
    /// confirmation PIN. All of a change's writes happen in one transaction.
    public func change(userID text: String, _ change: UserChange, by administrator: AdministratorActor, confirmationPIN: PIN,
                       certificates: CertificateService) async throws {
        let userID = try UserID(parsing: text).value
        guard let user = try await store.holder(scope: administrator.contractID, loginID: userID), user.role == Role.user.rawValue,
              user.deletedAt == nil else {
            try await store.appendAudit(AuditEvent(actor: administrator.auditName, action: "user.change", target: "\(administrator.contractID)/\(userID)",
                                                   outcome: .denied("user.unknown"), clientAddress: administrator.clientAddress,
                                                   certificateSerial: administrator.certificateSerial), at: clock.now())
            throw BizDirectError.notFound("user.unknown", "Your contract has no user with this ID.")
        }
        try await confirm(administrator, confirmationPIN: confirmationPIN)
        let prepared = try await preparePINs(change)
        if case .rename(let name) = change, TextNormaliser.normalise(name).isEmpty || name.count > 100 {
            throw BizDirectError.malformed("user.name", "Enter the user's name.")
        }
        let now = clock.now()
        let revoked = try await store.transaction { tx in
            guard let fresh = try await tx.holder(id: try user.requireID()) else { return [String]() }
            var revoked: [String] = []
            switch change {
            case .rename(let name): fresh.name = TextNormaliser.normalise(name)
            case .setPINs:
                fresh.pinHash = prepared?.0
                fresh.confirmationPINHash = prepared?.1
                fresh.mustChangePIN = true
                // PINs set by someone else end the user's live sessions.
                try await tx.endSessions(holderIDs: [try fresh.requireID()], reason: "session.pinReset")
            case .endSessions:
                try await tx.endSessions(holderIDs: [try fresh.requireID()], reason: "session.endedByAdministrator")
            case .reissue:
                revoked = try await tx.revokeActiveCertificates(holderID: try fresh.requireID(), reason: RevocationReason.superseded.rawValue, at: now)
                fresh.openAcquisitionWindow(until: now.addingTimeInterval(AcquisitionPolicy.window))
            case .unlock:
                fresh.releaseLock()
            case .delete:
                revoked = try await tx.revokeActiveCertificates(holderID: try fresh.requireID(), reason: RevocationReason.cessationOfOperation.rawValue, at: now)
                // The row stays (the audit trail names it) and its user ID stays reserved.
                fresh.acquisitionOpenUntil = nil
                fresh.pinHash = nil
                fresh.confirmationPINHash = nil
                fresh.deletedAt = now
            }
            try await tx.update(fresh)
            try await tx.appendAudit(AuditEvent(actor: administrator.auditName, action: "user.\(Self.name(change))",
                                                target: "\(administrator.contractID)/\(userID)", outcome: .allowed,
                                                clientAddress: administrator.clientAddress, certificateSerial: administrator.certificateSerial), at: now)
            if !revoked.isEmpty { try await certificates.publishCRL(in: tx) }
            return revoked
        }
        if !revoked.isEmpty { certificates.revocationsCommitted() }
    }

    /// New PIN hashes for `.setPINs`, made before the transaction (hashing is slow).
    private func preparePINs(_ change: UserChange) async throws -> (String, String)? {
        guard case .setPINs(let pin, let confirmation) = change else { return nil }
        if case .deny(let reason) = PINPolicy.checkPair(pin: pin, confirmation: confirmation) {
            throw BizDirectError.malformed(reason, "A PIN has 6 to 12 letters and digits, with at least one of each; the two PINs must differ.")
        }
        return (try await hasher.hash(pin), try await hasher.hash(confirmation))
    }

    private static func name(_ change: UserChange) -> String {
        switch change {
        case .rename: "rename"
        case .setPINs: "setPINs"
        case .endSessions: "endSessions"
        case .reissue: "reissue"
        case .unlock: "unlock"
        case .delete: "delete"
        }
    }
}
