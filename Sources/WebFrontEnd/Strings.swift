import BizDirectCore

/// Page texts in Japanese and English. Keys are shared by the templates (`{{t.key}}`) and by
/// error reasons (`error.<reason>`), so the customer sees every message in their language.
enum Strings {
    static func table(_ language: Language) -> [String: String] {
        language == .ja ? ja : en
    }

    /// The table as nested dictionaries, so that templates can write `{{t.top.title}}`.
    static func nested(_ language: Language) -> [String: Any] {
        language == .ja ? nestedJapanese : nestedEnglish
    }

    // Built once per language rather than on every page render. `[String: Any]` is not Sendable,
    // but these are constants: written once at first use (Swift's static initialisation is
    // thread-safe) and only read afterwards.
    nonisolated(unsafe) private static let nestedJapanese = nest(ja)
    nonisolated(unsafe) private static let nestedEnglish = nest(en)

    private static func nest(_ flat: [String: String]) -> [String: Any] {
        var root: [String: Any] = [:]
        for (key, value) in flat { insert(value, path: key.split(separator: ".").map(String.init)[...], into: &root) }
        return root
    }

    private static func insert(_ value: String, path: ArraySlice<String>, into node: inout [String: Any]) {
        guard let head = path.first else { return }
        if path.count == 1 { node[head] = value; return }
        var child = node[head] as? [String: Any] ?? [:]
        insert(value, path: path.dropFirst(), into: &child)
        node[head] = child
    }

    /// The PIN label for a holder's role (contract PIN, user PIN, staff PIN).
    static func pinLabel(_ role: Role, _ language: Language) -> String {
        let key = role == .administrator ? "acq.pin.administrator" : role == .user ? "acq.pin.user" : "acq.pin.staff"
        return table(language)[key] ?? ""
    }
}
