import BizDirectCore
import CertificateAuthority
import Foundation
import Policy
import Storage

extension StaffService {
    /// Every staff member, by staff ID, with status and current certificate.
    public func members() async throws -> [HolderLine] {
        var lines: [HolderLine] = []
        for holder in try await store.holders(scope: "bank") { lines.append(try await HolderLine.of(holder, store: store)) }
        return lines
    }

    /// Break-glass for the operator (`bizdirect staff unlock`), for when no supervisor can log on
    /// to record an unlock request or approve one. Audited. Returns the staff ID as stored.
    public func unlockFromCommandLine(staffID text: String, actor: String) async throws -> String {
        let staffID = Self.staffID(text)
        let now = clock.now()
        return try await store.transaction { tx in
            guard let member = try await tx.holder(scope: "bank", loginID: staffID), member.deletedAt == nil else {
                try await tx.appendAudit(AuditEvent(actor: actor, action: "staff.unlock", target: staffID, outcome: .denied("staff.unknown")), at: now)
                throw BizDirectError.notFound("staff.unknown", "No staff member has this ID.")
            }
            member.releaseLock()
            try await tx.update(member)
            try await tx.appendAudit(AuditEvent(actor: actor, action: "staff.unlock", target: staffID, outcome: .allowed), at: now)
            return member.loginID
        }
    }

    /// A staff ID as typed (full width, lower case) in its stored form.
    public static func staffID(_ text: String) -> String { TextNormaliser.normalise(text).uppercased() }
}
