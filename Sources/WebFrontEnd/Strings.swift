import BizDirectCore
import Mustache

/// Page texts in Japanese and English. Keys are shared by the templates (`{{t.key}}`) and by
/// error reasons (`error.<reason>`), so the customer sees every message in their language.
enum Strings {
    static func table(_ language: Language) -> [String: String] {
        language == .ja ? ja : en
    }

    /// The table as templates see it, so that they can write `{{t.top.title}}`: a view that
    /// looks each dotted key up in the flat table (no nested copy whose order could vary).
    static func nested(_ language: Language) -> StringTree {
        StringTree(table: table(language), prefixes: language == .ja ? jaPrefixes : enPrefixes, path: "")
    }

    private static let jaPrefixes = prefixes(of: ja)
    private static let enPrefixes = prefixes(of: en)

    /// Every proper prefix of a key ("admin" and "admin.action" of "admin.action.rename").
    private static func prefixes(of table: [String: String]) -> Set<String> {
        var result: Set<String> = []
        for key in table.keys {
            var parts = key.split(separator: ".").map(String.init)
            while parts.count > 1 {
                parts.removeLast()
                result.insert(parts.joined(separator: "."))
            }
        }
        return result
    }

    /// The one message lookup for a refusal: the text of its reason, else of its kind.
    static func message(reason: String, kind: BizDirectError.Kind, _ language: Language) -> String {
        let table = table(language)
        return table["error.\(reason)"] ?? table["error.kind.\(kind.rawValue)"] ?? ""
    }

    /// The message for `error` in `language`.
    static func message(_ error: BizDirectError, _ language: Language) -> String {
        message(reason: error.reason, kind: error.kind, language)
    }

    /// The PIN label for a holder's role (contract PIN, user PIN, staff PIN).
    static func pinLabel(_ role: Role, _ language: Language) -> String {
        let key = role == .administrator ? "acq.pin.administrator" : role == .user ? "acq.pin.user" : "acq.pin.staff"
        return table(language)[key] ?? ""
    }
}

/// A node of the page strings for Mustache: `child(named:)` yields the text of a key, or the node
/// for a key prefix, or nothing. A key that is both a text and a prefix cannot exist
/// (`StringsTests.noLeafIsAPrefix`), so every lookup has one answer.
struct StringTree: MustacheParent, Sendable {
    let table: [String: String]
    let prefixes: Set<String>
    let path: String

    func child(named name: String) -> Any? {
        let key = path.isEmpty ? name : path + "." + name
        if let text = table[key] { return text }
        return prefixes.contains(key) ? StringTree(table: table, prefixes: prefixes, path: key) : nil
    }
}
