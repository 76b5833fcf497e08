import BizDirectCore
import Testing

@Suite("ContractID")
struct ContractIDTests {
    static let valid = try! ContractID(body: "1234567890")

    @Test("a made ID parses back, also from full-width digits and with hyphens")
    func roundTrip() throws {
        let digits = Self.valid.digits
        #expect(digits.count == 11)
        #expect(try ContractID(parsing: digits) == Self.valid)
        let fullWidth = String(digits.unicodeScalars.map { Character(Unicode.Scalar($0.value - 0x30 + 0xFF10)!) })
        #expect(try ContractID(parsing: fullWidth) == Self.valid)
        #expect(try ContractID(parsing: String(digits.prefix(4)) + "-" + String(digits.dropFirst(4))) == Self.valid)
    }

    @Test("every single-digit typo is caught", arguments: 0..<11)
    func singleDigitTypos(position: Int) {
        let original = Array(Self.valid.digits)
        for replacement in "0123456789" where replacement != original[position] {
            var characters = original
            characters[position] = replacement
            #expect(throws: BizDirectError.malformed("contractID.checkDigit", "")) { try ContractID(parsing: String(characters)) }
        }
    }

    @Test("every swap of two different neighbouring digits is caught")
    func adjacentSwaps() throws {
        for body in ["1234567890", "9081726354", "5550011223"] {
            let id = try ContractID(body: body).digits
            for index in 0..<10 {
                var characters = Array(id)
                guard characters[index] != characters[index + 1] else { continue }
                characters.swapAt(index, index + 1)
                #expect(throws: BizDirectError.malformed("contractID.checkDigit", ""), "\(id) swap \(index)") {
                    try ContractID(parsing: String(characters))
                }
            }
        }
    }

    @Test("wrong lengths and letters are refused as format errors", arguments: ["", "1234", "123456789012", "12345abc901"])
    func formatErrors(input: String) {
        #expect(throws: BizDirectError.malformed("contractID.format", "")) { try ContractID(parsing: input) }
    }
}

@Suite("BizDirectConfiguration")
struct ConfigurationTests {
    @Test("defaults are valid")
    func defaults() throws {
        try BizDirectConfiguration(dataDirectory: .init(fileURLWithPath: "/tmp/x")).validate()
    }

    @Test("a bad setting is refused with a message naming it")
    func badSettings() {
        var c = BizDirectConfiguration(dataDirectory: .init(fileURLWithPath: "/tmp/x"))
        c.lockoutLimit = 11
        #expect(throws: BizDirectError.malformed("config.lockout-limit", "")) { try c.validate() }
        c = BizDirectConfiguration(dataDirectory: .init(fileURLWithPath: "/tmp/x"))
        c.crlLifetime = 2 * 86_400
        #expect(throws: BizDirectError.malformed("config.crl-lifetime", "")) { try c.validate() }
        c = BizDirectConfiguration(dataDirectory: .init(fileURLWithPath: "/tmp/x"))
        c.databaseURL = "mysql://x"
        #expect(throws: BizDirectError.malformed("config.database-url", "")) { try c.validate() }
        c = BizDirectConfiguration(dataDirectory: .init(fileURLWithPath: "/tmp/x"))
        c.bankCode = "16x5"
        #expect(throws: BizDirectError.malformed("bankCode.format", "")) { try c.validate() }
    }

    @Test("the resource limits are validated: hashing capacity, the anonymous share of it, per-account attempts", arguments: [
        ("pin-hash-capacity", 1), ("anonymous-pin-hash-share", 64), ("anonymous-pin-hash-share", 0), ("attempts-per-account-per-minute", 0),
    ])
    func resourceLimits(_ setting: String, _ value: Int) {
        var c = BizDirectConfiguration(dataDirectory: .init(fileURLWithPath: "/tmp/x"))
        switch setting {
        case "pin-hash-capacity": c.pinHashCapacity = value
        case "anonymous-pin-hash-share": c.anonymousPINHashShare = value
        default: c.attemptsPerAccountPerMinute = value
        }
        #expect(throws: BizDirectError.malformed("config.\(setting)", "")) { try c.validate() }
    }

    @Test("PINs never print themselves")
    func pinRedaction() {
        let pin = PIN("secret123")
        #expect("\(pin)" == "PIN(redacted)")
        #expect(String(reflecting: pin) == "PIN(redacted)")
    }
}
