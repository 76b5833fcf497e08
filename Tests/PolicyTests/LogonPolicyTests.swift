import BizDirectCore
import Policy
import Testing

@Suite("LogonPolicy: the logon state machine")
struct LogonPolicyTests {
    /// Every (stage, input) pair: the only allowed ones are the PIN without a session, the card at
    /// `.card` and new PINs at `.changePINs`.
    @Test("every (stage, input) pair is allowed or refused with its reason", arguments: [
        (nil, LogonInput.pin, Decision.allow),
        (nil, .card, .deny("logon.noSession")),
        (nil, .changePINs, .deny("logon.noSession")),
        (LogonStage.card, LogonInput.pin, Decision.deny("logon.stage.card")),
        (.card, .card, .allow),
        (.card, .changePINs, .deny("logon.stage.card")),
        (.changePINs, .pin, .deny("logon.stage.changePINs")),
        (.changePINs, .card, .deny("logon.stage.changePINs")),
        (.changePINs, .changePINs, .allow),
        (.complete, .pin, .deny("logon.stage.complete")),
        (.complete, .card, .deny("logon.stage.complete")),
        (.complete, .changePINs, .deny("logon.stage.complete")),
    ] as [(LogonStage?, LogonInput, Decision)])
    func table(_ stage: LogonStage?, _ input: LogonInput, _ expected: Decision) {
        #expect(LogonPolicy.accepts(input, at: stage) == expected)
    }

    @Test("the table above covers every pair")
    func coverage() {
        #expect((LogonStage.allCases.count + 1) * LogonInput.allCases.count == 12)
    }

    @Test("after each right input: administrators go to the card, then to new PINs when they must change them, then home", arguments: [
        (LogonInput.pin, Role.administrator, false, LogonStage.card),
        (.pin, .administrator, true, .card),
        (.pin, .user, false, .complete),
        (.pin, .user, true, .changePINs),
        (.pin, .clerk, true, .changePINs),
        (.pin, .supervisor, false, .complete),
        (.card, .administrator, false, .complete),
        (.card, .administrator, true, .changePINs),
        (.changePINs, .administrator, true, .complete),
        (.changePINs, .user, true, .complete),
    ] as [(LogonInput, Role, Bool, LogonStage)])
    func transitions(_ input: LogonInput, _ role: Role, _ mustChange: Bool, _ expected: LogonStage) {
        #expect(LogonPolicy.stage(after: input, role: role, mustChangePINs: mustChange) == expected)
    }

    @Test("idle timeouts by role: users the longer one, administrators and staff the shorter")
    func idleTimeouts() {
        #expect(LogonPolicy.idleTimeout(role: .user, user: 1800, staff: 900) == 1800)
        for role in [Role.administrator, .clerk, .supervisor] { #expect(LogonPolicy.idleTimeout(role: role, user: 1800, staff: 900) == 900) }
    }
}
