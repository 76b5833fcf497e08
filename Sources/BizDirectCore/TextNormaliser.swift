import Foundation

/// Normalises what people type: NFKC turns full-width digits and letters (１２３, ＡＢＣ),
/// which Japanese input methods produce, into their ASCII forms, and surrounding
/// white space is dropped.
public enum TextNormaliser {
    /// NFKC-normalises and trims `input`.
    public static func normalise(_ input: String) -> String {
        input.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
