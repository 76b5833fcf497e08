import Foundation
import Testing
@testable import WebFrontEnd

/// The page strings are data the templates and the error mapping depend on; these checks keep
/// them whole in both languages.
@Suite("Page strings")
struct StringsTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources").standardized

    @Test("Japanese and English have the same keys")
    func sameKeys() {
        let ja = Set(Strings.table(.ja).keys), en = Set(Strings.table(.en).keys)
        #expect(ja.subtracting(en).sorted() == [], "only in Japanese")
        #expect(en.subtracting(ja).sorted() == [], "only in English")
    }

    @Test("no key is both a string and the prefix of others (the nested table would lose one at random)")
    func noLeafIsAPrefix() {
        let keys = Set(Strings.table(.en).keys)
        let clashes = keys.filter { key in keys.contains { $0.hasPrefix(key + ".") } }
        #expect(clashes.sorted() == [])
    }

    @Test("every t. key a template uses exists")
    func templateKeysExist() throws {
        let folder = Self.sources.appendingPathComponent("WebFrontEnd/Resources/templates")
        let keys = Set(Strings.table(.ja).keys)
        var missing: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            for part in text.components(separatedBy: "{{t.").dropFirst() {
                let key = String(part.prefix { $0 != "}" })
                if !keys.contains(key) { missing.append("\(name): \(key)") }
            }
        }
        #expect(missing == [])
    }

    @Test("every refusal reason thrown in the code has text in both languages")
    func everyReasonHasText() throws {
        var reasons: Set<String> = []
        let pattern = try NSRegularExpression(pattern: #"\.(?:malformed|unauthenticated|forbidden|locked|expired|revoked|notFound|conflict|unavailable)\(\s*"([a-zA-Z]+\.[a-zA-Z.]+)""#)
        let enumerator = FileManager.default.enumerator(atPath: Self.sources.path)
        while let path = enumerator?.nextObject() as? String {
            guard path.hasSuffix(".swift") else { continue }
            let text = try String(contentsOf: Self.sources.appendingPathComponent(path), encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { reasons.insert(String(text[range])) }
            }
        }
        #expect(reasons.count > 40)
        for language in [Language.ja, .en] {
            let table = Strings.table(language)
            let missing = reasons.filter { table["error.\($0)"] == nil }.sorted()
            #expect(missing == [], "\(language) has no text for these reasons")
        }
    }
}
