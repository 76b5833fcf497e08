import BizDirectCore
import Foundation

/// The answer of a policy rule: allowed, or denied with a reason key tests can compare.
public enum Decision: Sendable, Equatable {
    case allow
    case deny(String)

    /// True for `.allow`.
    public var isAllowed: Bool { self == .allow }
}

/// Session lifetime rules.
public enum SessionPolicy {
    /// Whether a session made at `created`, last seen at `lastSeen`, is still usable at `now`.
    public static func evaluate(created: Date, lastSeen: Date, now: Date, idleTimeout: TimeInterval,
                                absoluteTimeout: TimeInterval) -> Decision {
        if now.timeIntervalSince(created) > absoluteTimeout { return .deny("session.absoluteTimeout") }
        if now.timeIntervalSince(lastSeen) > idleTimeout { return .deny("session.idleTimeout") }
        return .allow
    }
}

/// PIN format rules (contract PIN and confirmation PIN: 6–12 letters and digits, at least one of each).
public enum PINPolicy {
    /// Checks a new PIN's format.
    public static func checkFormat(_ pin: PIN) -> Decision {
        let s = pin.secret
        guard (6...12).contains(s.count) else { return .deny("pin.length") }
        guard s.allSatisfy(\.isASCIIAlphanumeric) else { return .deny("pin.characters") }
        guard s.contains(where: \.isASCIIDigit), s.contains(where: { $0.isASCII && $0.isLetter }) else { return .deny("pin.mix") }
        return .allow
    }

    /// Checks a PIN and a confirmation PIN set together: both well formed and different.
    public static func checkPair(pin: PIN, confirmation: PIN) -> Decision {
        if case .deny(let reason) = checkFormat(pin) { return .deny(reason) }
        if case .deny(let reason) = checkFormat(confirmation) { return .deny(reason) }
        return pin.secret == confirmation.secret ? .deny("pin.same") : .allow
    }
}

/// Lockout rules.
public enum LockoutPolicy {
    /// Whether a failure count has reached the limit.
    public static func isLocked(failures: Int, limit: Int) -> Bool { failures >= limit }
}

/// What a presented client certificate means, before any PIN is asked.
public enum CertificateCheck: Sendable, Equatable {
    /// No certificate was presented.
    case none
    /// Not issued by this bank's issuing CA.
    case foreign
    /// Ours, but not in our records.
    case unknown
    /// Expired at this time.
    case expired(Date)
    /// Revoked at this time.
    case revoked(Date)
    /// Not yet valid.
    case notYetValid(Date)
    /// Valid and current.
    case valid

    /// Classifies a certificate of ours from its record.
    public static func classify(notBefore: Date, notAfter: Date, revokedAt: Date?, now: Date) -> CertificateCheck {
        if let revokedAt { return .revoked(revokedAt) }
        if now > notAfter { return .expired(notAfter) }
        if now < notBefore { return .notYetValid(notBefore) }
        return .valid
    }
}

/// How long an acquisition window stays open after onboarding, a re-issue or a registration.
public enum AcquisitionPolicy {
    /// 80 days, as the branch forms promise.
    public static let window: TimeInterval = 80 * 86_400
}
