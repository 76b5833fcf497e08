import BizDirectCore

/// Who may do what at the branch: the two-person rule for every request.
public enum BranchPolicy {
    /// Clerks and supervisors may record requests and contracts.
    public static func mayRecord(role: Role) -> Decision {
        role.isStaff ? .allow : .deny("branch.staffOnly")
    }

    /// A different staff member with the supervisor role decides a request that is still
    /// open, and only while its contract is unchanged since the request was recorded.
    public static func mayDecide(status: String, recordedBy: String, decider: String, deciderRole: Role,
                                 recordedVersion: Int, currentVersion: Int) -> Decision {
        guard status == "recorded" else { return .deny("request.alreadyDecided") }
        guard deciderRole == .supervisor else { return .deny("request.supervisorOnly") }
        guard recordedBy != decider else { return .deny("request.ownRequest") }
        guard recordedVersion == currentVersion else { return .deny("request.contractChanged") }
        return .allow
    }

    /// Only supervisors add staff.
    public static func mayAddStaff(role: Role) -> Decision {
        role == .supervisor ? .allow : .deny("request.supervisorOnly")
    }

    /// A supervisor unlocks or re-issues for another staff member, never for themselves.
    public static func mayManageStaff(role: Role, actorID: String, targetID: String) -> Decision {
        guard role == .supervisor else { return .deny("request.supervisorOnly") }
        return actorID == targetID ? .deny("staff.self") : .allow
    }
}
