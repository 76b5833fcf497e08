import BizDirectCore
import Foundation
import Policy
import Testing

@Suite("SessionPolicy")
struct SessionPolicyTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("idle and absolute limits", arguments: [
        (0.0, 0.0, Decision.allow),
        (899.0, 899.0, .allow),
        (901.0, 901.0, .deny("session.idleTimeout")),
        (43_000.0, 100.0, .allow),
        (43_201.0, 10.0, .deny("session.absoluteTimeout")),
    ])
    func limits(elapsed: Double, idle: Double, expected: Decision) {
        let now = Self.start + elapsed
        #expect(SessionPolicy.evaluate(created: Self.start, lastSeen: now - idle, now: now, idleTimeout: 900, absoluteTimeout: 43_200) == expected)
    }
}

@Suite("PINPolicy")
struct PINPolicyTests {
    @Test("format rules", arguments: [
        ("abc123", Decision.allow), ("ａｂｃ１２３", .allow), ("abc12", .deny("pin.length")), ("abcdefghijk12", .deny("pin.length")),
        ("abcdef", .deny("pin.mix")), ("123456", .deny("pin.mix")), ("abc 123", .deny("pin.characters")), ("abc12!", .deny("pin.characters")),
    ])
    func format(pin: String, expected: Decision) {
        #expect(PINPolicy.checkFormat(PIN(pin)) == expected)
    }

    @Test("the PIN and the confirmation PIN must differ")
    func pairMustDiffer() {
        #expect(PINPolicy.checkPair(pin: PIN("abc123"), confirmation: PIN("abc123")) == .deny("pin.same"))
        #expect(PINPolicy.checkPair(pin: PIN("abc123"), confirmation: PIN("xyz789")) == .allow)
    }
}

@Suite("CertificateCheck")
struct CertificateCheckTests {
    @Test("revoked wins over expired; otherwise validity decides")
    func classify() {
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(CertificateCheck.classify(notBefore: t - 10, notAfter: t + 10, revokedAt: nil, now: t) == .valid)
        #expect(CertificateCheck.classify(notBefore: t - 10, notAfter: t - 1, revokedAt: nil, now: t) == .expired(t - 1))
        #expect(CertificateCheck.classify(notBefore: t - 10, notAfter: t - 1, revokedAt: t - 5, now: t) == .revoked(t - 5))
        #expect(CertificateCheck.classify(notBefore: t + 5, notAfter: t + 10, revokedAt: nil, now: t) == .notYetValid(t + 5))
    }
}

@Suite("BranchPolicy")
struct BranchPolicyTests {
    @Test("staff requests are recorded by a supervisor, and never about themselves", arguments: [
        (Role.supervisor, "S0001", "S0002", Decision.allow),
        (Role.supervisor, "S0001", nil, Decision.allow),
        (Role.supervisor, "S0001", "S0001", Decision.deny("staff.self")),
        (Role.clerk, "S0003", "S0002", Decision.deny("request.supervisorOnly")),
        (Role.clerk, "S0003", nil, Decision.deny("request.supervisorOnly")),
    ] as [(Role, String, String?, Decision)])
    func recordStaffRequest(role: Role, actor: String, subject: String?, expected: Decision) {
        #expect(BranchPolicy.mayRecordStaffRequest(role: role, actorID: actor, subject: subject) == expected)
    }

    @Test("a request is decided by another supervisor than its recorder, never by the staff member it concerns", arguments: [
        ("recorded", "S0001", "S0002", Role.supervisor, nil, Decision.allow),
        ("recorded", "S0001", "S0001", Role.supervisor, nil, Decision.deny("request.ownRequest")),
        ("recorded", "S0001", "S0002", Role.clerk, nil, Decision.deny("request.supervisorOnly")),
        ("recorded", "S0001", "S0002", Role.supervisor, "S0002", Decision.deny("staff.self")),
        ("recorded", "S0001", "S0002", Role.supervisor, "S0003", Decision.allow),
        ("approved", "S0001", "S0002", Role.supervisor, nil, Decision.deny("request.alreadyDecided")),
    ] as [(String, String, String, Role, String?, Decision)])
    func decide(status: String, recorder: String, decider: String, role: Role, subject: String?, expected: Decision) {
        #expect(BranchPolicy.mayDecide(status: status, recordedBy: recorder, decider: decider, deciderRole: role,
                                       recordedVersion: 1, currentVersion: 1, subject: subject) == expected)
    }

    @Test("an approval needs the contract unchanged since recording; a refusal, which changes nothing, does not")
    func staleRequests() {
        #expect(BranchPolicy.mayDecide(status: "recorded", recordedBy: "S0001", decider: "S0002", deciderRole: .supervisor,
                                       recordedVersion: 1, currentVersion: 2) == .deny("request.contractChanged"))
        #expect(BranchPolicy.mayDecide(status: "recorded", recordedBy: "S0001", decider: "S0002", deciderRole: .supervisor,
                                       recordedVersion: 1, currentVersion: 2, approving: false) == .allow)
    }

    @Test("the command line bootstraps staff only while fewer than two active supervisors exist", arguments: [
        (0, Decision.allow), (1, Decision.allow), (2, Decision.deny("staff.bootstrapOver")), (5, Decision.deny("staff.bootstrapOver")),
    ])
    func bootstrap(supervisors: Int, expected: Decision) {
        #expect(BranchPolicy.mayBootstrapStaff(activeSupervisors: supervisors) == expected)
    }
}
