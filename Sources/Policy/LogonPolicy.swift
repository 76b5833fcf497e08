import BizDirectCore
import Foundation

/// How far a logon session has got. Stored as its raw value; an unknown stored value is an
/// error that ends the session, never a default.
///
/// There is no stage before the PIN: the PIN step starts from the certificate alone and makes
/// the session only when the PIN is right, so `GET /logon` stores nothing.
public enum LogonStage: String, Sendable, CaseIterable, Equatable {
    /// PIN right; the administrator answers the customer-card challenge.
    case card
    /// Every secret right; the holder must set new PINs (first logon, or PINs set by someone else).
    case changePINs
    /// Logged on.
    case complete
}

/// An input a holder sends during logon.
public enum LogonInput: String, Sendable, CaseIterable, Equatable {
    /// The PIN, with the certificate.
    case pin
    /// The card answers.
    case card
    /// New PINs.
    case changePINs
}

/// What the holder is to do next: the web front end renders exactly this.
public enum LogonStep: Sendable, Equatable {
    /// Enter the PIN.
    case pin
    /// Answer these card cells.
    case card(cells: [String])
    /// Set new PINs.
    case changePINs
    /// Logged on: the home page.
    case home
}

/// The logon state machine, as pure rules. The RA applies them; it is the only code that
/// advances a session.
public enum LogonPolicy {
    /// Whether `input` may be sent in a session at `stage` (nil: no session yet).
    ///
    /// The PIN is taken only without a session (it starts one). The card only at `.card`, so only
    /// after the PIN was right in the same session. New PINs only at `.changePINs`.
    public static func accepts(_ input: LogonInput, at stage: LogonStage?) -> Decision {
        switch (input, stage) {
        case (.pin, nil), (.card, .card?), (.changePINs, .changePINs?): .allow
        case (_, nil): .deny("logon.noSession")
        case (_, let stage?): .deny("logon.stage.\(stage.rawValue)")
        }
    }

    /// The stage after `input` was right, for a holder of `role` who `mustChangePINs`.
    public static func stage(after input: LogonInput, role: Role, mustChangePINs: Bool) -> LogonStage {
        switch input {
        case .pin where role == .administrator: .card
        case .pin, .card: mustChangePINs ? .changePINs : .complete
        case .changePINs: .complete
        }
    }

    /// The idle timeout for a holder of `role`: administrators and staff have the shorter one.
    public static func idleTimeout(role: Role, user: TimeInterval, staff: TimeInterval) -> TimeInterval {
        role == .user ? user : staff
    }
}
