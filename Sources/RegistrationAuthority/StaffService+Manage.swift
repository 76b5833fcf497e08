import BizDirectCore
import CertificateAuthority
import Foundation
import Policy
import Storage

/// What a supervisor can do for another staff member.
public enum StaffChange: String, Sendable {
    /// Clear the lock and the failure counter.
    case unlock
    /// Revoke the current certificate and give a new one-time acquisition code (lost or new PC).
    case reissue
}

extension StaffService {
    /// Every staff member, by staff ID, with status and current certificate.
    public func members() async throws -> [HolderLine] {
        var lines: [HolderLine] = []
        for holder in try await store.holders(scope: "bank") { lines.append(try await HolderLine.of(holder, store: store)) }
        return lines
    }

    /// A supervisor's change for another staff member: one transaction with its audit event.
    /// Returns the new one-time acquisition code after a re-issue (to be shown once), else nil.
    public func change(staffID text: String, _ change: StaffChange, by staff: StaffActor,
                       certificates: CertificateService) async throws -> String? {
        let staffID = Self.staffID(text)
        let action = "staff.\(change.rawValue)"
        if case .deny(let reason) = BranchPolicy.mayManageStaff(role: staff.role, actorID: staff.staffID, targetID: staffID) {
            try await store.refuse(reason, reason == "staff.self" ? "Another supervisor must do this for you." : "Only a supervisor can do this.",
                                   actor: staff.auditName, action: action, target: staffID, clientAddress: staff.clientAddress,
                                   certificateSerial: staff.certificateSerial, at: clock.now())
        }
        let member = try await self.member(staffID, actor: staff.auditName, action: action, clientAddress: staff.clientAddress,
                                           certificateSerial: staff.certificateSerial)
        return try await apply(change, to: member, actor: staff.auditName, clientAddress: staff.clientAddress,
                               certificateSerial: staff.certificateSerial, certificates: certificates)
    }

    /// Break-glass for the operator (`bizdirect staff unlock`), for when no supervisor can log on.
    /// Returns the staff ID as stored.
    public func unlockFromCommandLine(staffID text: String, actor: String, certificates: CertificateService) async throws -> String {
        let member = try await self.member(Self.staffID(text), actor: actor, action: "staff.unlock", clientAddress: "-", certificateSerial: "-")
        _ = try await apply(.unlock, to: member, actor: actor, clientAddress: "-", certificateSerial: "-", certificates: certificates)
        return member.loginID
    }

    /// A staff ID as typed (full width, lower case) in its stored form.
    public static func staffID(_ text: String) -> String { TextNormaliser.normalise(text).uppercased() }

    /// The staff member with this ID; an unknown ID is refused, and audited.
    private func member(_ staffID: String, actor: String, action: String, clientAddress: String,
                        certificateSerial: String) async throws -> HolderModel {
        if let member = try await store.holder(scope: "bank", loginID: staffID) { return member }
        try await store.appendAudit(AuditEvent(actor: actor, action: action, target: staffID, outcome: .denied("staff.unknown"),
                                               clientAddress: clientAddress, certificateSerial: certificateSerial), at: clock.now())
        throw BizDirectError.notFound("staff.unknown", "No staff member has this ID.")
    }

    private func apply(_ change: StaffChange, to member: HolderModel, actor: String, clientAddress: String, certificateSerial: String,
                       certificates: CertificateService) async throws -> String? {
        let now = clock.now()
        let code = change == .reissue ? Self.acquisitionCode(random.bytes(10)) : nil
        let codeHash = code.map { hasher.keyedHash($0) }
        let revoked = try await store.transaction { tx in
            guard let fresh = try await tx.holder(id: try member.requireID()) else { return [String]() }
            var revoked: [String] = []
            switch change {
            case .unlock:
                fresh.releaseLock()
            case .reissue:
                revoked = try await tx.revokeActiveCertificates(holderID: try fresh.requireID(), reason: RevocationReason.superseded.rawValue, at: now)
                fresh.acquisitionCodeHash = codeHash
                fresh.openAcquisitionWindow(until: now.addingTimeInterval(AcquisitionPolicy.window))
            }
            try await tx.update(fresh)
            try await tx.appendAudit(AuditEvent(actor: actor, action: "staff.\(change.rawValue)", target: fresh.loginID, outcome: .allowed,
                                                clientAddress: clientAddress, certificateSerial: certificateSerial), at: now)
            if !revoked.isEmpty { try await certificates.publishCRL(in: tx) }
            return revoked
        }
        if !revoked.isEmpty { certificates.revocationsCommitted() }
        return code
    }
}
