/// An 11-digit contract ID (契約者ID): ten digits and a Damm check digit.
///
/// The Damm algorithm detects every single-digit error and every swap of two neighbouring
/// digits, so a typo is caught wherever a contract ID is entered.
public struct ContractID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The 11 digits.
    public let digits: String

    /// Parses user input: full-width digits, spaces and hyphens are accepted.
    public init(parsing input: String) throws(BizDirectError) {
        let normalised = TextNormaliser.normalise(input).filter { $0 != "-" && $0 != " " }
        guard normalised.count == 11, normalised.allSatisfy(\.isASCIIDigit) else {
            throw .malformed("contractID.format", "A contract ID has 11 digits.")
        }
        guard Self.damm(normalised) == 0 else {
            throw .malformed("contractID.checkDigit", "The contract ID is not valid. Please check the digits.")
        }
        self.digits = normalised
    }

    /// Makes a contract ID from a 10-digit body by appending its check digit.
    public init(body: String) throws(BizDirectError) {
        guard body.count == 10, body.allSatisfy(\.isASCIIDigit) else {
            throw .malformed("contractID.format", "A contract ID body has 10 digits.")
        }
        self.digits = body + String(Self.damm(body))
    }

    public var description: String { digits }

    private static let table: [[Int]] = [
        [0, 3, 1, 7, 5, 9, 8, 6, 4, 2], [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
        [4, 2, 0, 6, 8, 7, 1, 3, 5, 9], [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
        [6, 1, 2, 3, 0, 4, 5, 9, 7, 8], [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
        [5, 8, 6, 9, 7, 2, 0, 1, 3, 4], [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
        [9, 4, 3, 8, 6, 1, 7, 2, 0, 5], [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
    ]

    /// The Damm interim digit of a string of ASCII digits (0 when a full ID is valid).
    static func damm(_ digits: String) -> Int {
        digits.utf8.reduce(0) { interim, byte in table[interim][Int(byte - 48)] }
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do { self = try ContractID(parsing: raw) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.detail))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(digits)
    }
}

extension Character {
    /// True for the ASCII digits 0–9 only.
    public var isASCIIDigit: Bool { isASCII && isNumber }
    /// True for ASCII letters and digits only.
    public var isASCIIAlphanumeric: Bool { isASCII && (isLetter || isNumber) }
}
