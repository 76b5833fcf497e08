import BizDirectCore

/// Who may do what at the branch: the two-person rule for every request.
public enum BranchPolicy {
    /// Clerks and supervisors may record requests and contracts.
    public static func mayRecord(role: Role) -> Decision {
        role.isStaff ? .allow : .deny("branch.staffOnly")
    }

    /// A different staff member with the supervisor role decides a request that is still
    /// open, and only while its contract is unchanged since the request was recorded. A request
    /// about a staff member (its `subject`) is never decided by that staff member. A refusal
    /// changes nothing, so it may be given even after the contract changed.
    public static func mayDecide(status: String, recordedBy: String, decider: String, deciderRole: Role,
                                 recordedVersion: Int, currentVersion: Int, subject: String? = nil, approving: Bool = true) -> Decision {
        guard status == "recorded" else { return .deny("request.alreadyDecided") }
        guard deciderRole == .supervisor else { return .deny("request.supervisorOnly") }
        guard recordedBy != decider else { return .deny("request.ownRequest") }
        guard subject != decider else { return .deny("staff.self") }
        guard !approving || recordedVersion == currentVersion else { return .deny("request.contractChanged") }
        return .allow
    }

    /// Only a supervisor records a staff request (add, role, unlock, re-issue, deactivate), and
    /// never one about themselves: nobody raises, restores or replaces their own access.
    public static func mayRecordStaffRequest(role: Role, actorID: String, subject: String?) -> Decision {
        guard role == .supervisor else { return .deny("request.supervisorOnly") }
        return subject == actorID ? .deny("staff.self") : .allow
    }

    /// The command line adds staff only to bootstrap the branch: while fewer than two active
    /// supervisors exist, since no request can be approved before there are two. After that,
    /// staff are added by a request and a second supervisor's approval.
    public static func mayBootstrapStaff(activeSupervisors: Int) -> Decision {
        activeSupervisors < 2 ? .allow : .deny("staff.bootstrapOver")
    }
}
