import BizDirectCore
import CertificateAuthority
import Foundation
import Policy
import Storage

extension BranchService {
    /// A supervisor records a staff request: a new member, or a change for another member. For
    /// an add or a re-issue the recorder is shown their half of the one-time code, once; the
    /// approving supervisor gets the other half. Nobody types the new member's PIN: they choose
    /// it when they acquire their certificate.
    public func recordStaffRequest(_ request: RecordStaffRequest, by staff: StaffActor) async throws -> RecordedStaffRequest {
        let subject = request.staffID.map(StaffService.staffID)
        let action = "request.record"
        let target = "\(request.kind.rawValue) \(subject ?? request.role?.rawValue ?? "-")"
        guard request.kind.isStaffRequest else { throw BizDirectError.malformed("request.kind", "Choose a request type.") }
        try await require(BranchPolicy.mayRecordStaffRequest(role: staff.role, actorID: staff.staffID, subject: subject),
                          staff, action: action, target: target)
        var details = StaffRequestDetails()
        switch request.kind {
        case .staffAdd:
            let name = TextNormaliser.normalise(request.name ?? "")
            guard !name.isEmpty, name.count <= 100 else { throw BizDirectError.malformed("staff.name", "Give the staff member's name.") }
            guard let role = request.role, role.isStaff else { throw BizDirectError.malformed("staff.role", "A staff role is clerk or supervisor.") }
            details = StaffRequestDetails(name: name, role: role.rawValue)
        default:
            guard let subject, let member = try await store.holder(scope: "bank", loginID: subject), member.deletedAt == nil else {
                try await deny(staff, action: action, target: target, reason: "staff.unknown")
                throw BizDirectError.notFound("staff.unknown", "No active staff member has this ID.")
            }
            if request.kind == .staffRole {
                guard let role = request.role, role.isStaff else { throw BizDirectError.malformed("staff.role", "A staff role is clerk or supervisor.") }
                guard role.rawValue != member.role else { throw BizDirectError.malformed("staff.sameRole", "The staff member already has this role.") }
                details = StaffRequestDetails(name: member.name, role: role.rawValue)
            }
        }
        let half = request.kind.splitsCode ? AcquisitionCode.half(random.bytes(5)) : nil
        let now = clock.now()
        let encoded = try String(decoding: JSONEncoder().encode(details), as: UTF8.self)
        return try await store.transaction { [hasher] tx in
            let row = try await tx.insertBranchRequest(contract: nil, kind: request.kind.rawValue,
                                                       fields: .init(subject: subject, details: encoded, codeHalfHash: half.map { hasher.keyedHash($0) }),
                                                       staffID: staff.staffID, at: now)
            try await tx.appendAudit(event(staff, action, target, .allowed), at: now)
            return RecordedStaffRequest(requestID: try row.requireID(), codeHalf: half)
        }
    }

    /// The changes of an approved staff request, inside the approval's transaction.
    func applyStaff(_ kind: BranchRequestKind, request: BranchRequestModel, approverHalf: String?, tx: Store, at now: Date) async throws -> Applied {
        let details = try request.details.map { try JSONDecoder().decode(StaffRequestDetails.self, from: Data($0.utf8)) } ?? StaffRequestDetails()
        /// The approver's half and the hash of the whole code.
        func code() throws -> (half: String, hash: String) {
            guard let first = request.codeHalfHash, let second = approverHalf else {
                throw BizDirectError.internal("request.noCodeHalf", "The request holds no code half.")
            }
            return (second, AcquisitionCode.hash(firstHalfHash: first, secondHalf: second, hasher: hasher))
        }
        if kind == .staffAdd {
            guard let name = details.name, let role = details.role.flatMap(Role.init(rawValue:)), role.isStaff else {
                throw BizDirectError.internal("request.details", "The request's details could not be read.")
            }
            let code = try code()
            let staffID = String(format: "S%04d", try await tx.nextCounter("staff"))
            _ = try await tx.insertHolder(role: role, scope: "bank", loginID: staffID, name: name, pinHash: nil, acquisitionCodeHash: code.hash,
                                          acquisitionOpenUntil: now.addingTimeInterval(AcquisitionPolicy.window), at: now)
            return Applied(result: .codeHalf(staffID: staffID, half: code.half), revoked: false, subject: "\(staffID) \(role.rawValue)")
        }
        guard let subject = request.subject, let member = try await tx.holder(scope: "bank", loginID: subject), member.deletedAt == nil else {
            throw BizDirectError.conflict("staff.unknown", "This staff member no longer exists or was deactivated.")
        }
        let memberID = try member.requireID()
        var applied = Applied(result: .done, revoked: false, subject: subject)
        switch kind {
        case .staffRole:
            guard let role = details.role.flatMap(Role.init(rawValue:)), role.isStaff else {
                throw BizDirectError.internal("request.details", "The request's details could not be read.")
            }
            member.role = role.rawValue
            applied.subject = "\(subject) \(role.rawValue)"
            // Power changed: the member logs on again to use it.
            try await tx.endSessions(holderIDs: [memberID], reason: "session.roleChanged")
        case .staffUnlock:
            member.releaseLock()
        case .staffReissue:
            applied.revoked = !(try await tx.revokeActiveCertificates(holderID: memberID, reason: RevocationReason.superseded.rawValue, at: now)).isEmpty
            let code = try code()
            member.acquisitionCodeHash = code.hash
            member.openAcquisitionWindow(until: now.addingTimeInterval(AcquisitionPolicy.window))
            applied.result = .codeHalf(staffID: subject, half: code.half)
        case .staffDeactivate:
            // A leaver: certificates revoked at once, sessions ended, no PIN and no acquisition;
            // the row and its staff ID stay (the audit trail names it, and IDs are never reused).
            applied.revoked = !(try await tx.revokeActiveCertificates(holderID: memberID, reason: RevocationReason.affiliationChanged.rawValue, at: now)).isEmpty
            member.pinHash = nil
            member.acquisitionOpenUntil = nil
            member.acquisitionCodeHash = nil
            member.deletedAt = now
            try await tx.endSessions(holderIDs: [memberID], reason: "session.deactivated")
        case .staffAdd, .onboarding, .lockRelease, .certificateReissue, .cardReissue:
            throw BizDirectError.internal("request.kindUnknown", "A contract request reached the staff changes.")
        }
        try await tx.update(member)
        return applied
    }
}
