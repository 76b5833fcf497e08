/// A user ID (利用者ID) chosen by the customer: 4–12 ASCII letters and digits, unique in its contract.
public struct UserID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The normalised ID.
    public let value: String

    /// Parses user input (full-width characters are accepted).
    public init(parsing input: String) throws(BizDirectError) {
        let normalised = TextNormaliser.normalise(input)
        guard (4...12).contains(normalised.count), normalised.allSatisfy(\.isASCIIAlphanumeric) else {
            throw .malformed("userID.format", "A user ID has 4 to 12 letters and digits.")
        }
        self.value = normalised
    }

    public var description: String { value }
}

/// A bank staff ID, assigned by the system.
public struct StaffID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The ID, such as `S0001`.
    public let value: String
    /// Wraps an ID already known to be well formed.
    public init(_ value: String) { self.value = value }
    public var description: String { value }
}

/// The bank's four-digit code (金融機関コード), 1635 by default, as in the FAQ.
public struct BankCode: Sendable, Hashable, CustomStringConvertible {
    /// The four digits.
    public let value: String

    /// Validates a bank code: exactly four ASCII digits.
    public init(_ value: String) throws(BizDirectError) {
        guard value.count == 4, value.allSatisfy(\.isASCIIDigit) else {
            throw .malformed("bankCode.format", "A bank code has four digits.")
        }
        self.value = value
    }

    public var description: String { value }
}

/// Who a credential holder is.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// The customer's administrator (管理者), one per contract.
    case administrator
    /// A user (利用者) of a customer company.
    case user
    /// Bank branch staff who record requests.
    case clerk
    /// Bank branch staff who approve requests.
    case supervisor

    /// True for the two bank staff roles.
    public var isStaff: Bool { self == .clerk || self == .supervisor }
}

/// A PIN as typed, normalised; it never prints itself.
public struct PIN: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The normalised characters. Read only to hash or to check format.
    public let secret: String

    /// Normalises input (full-width letters and digits become ASCII).
    public init(_ input: String) { self.secret = TextNormaliser.normalise(input) }

    public var description: String { "PIN(redacted)" }
    public var debugDescription: String { "PIN(redacted)" }
}
