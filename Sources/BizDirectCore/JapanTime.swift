import Foundation

/// The one place dates become text. The bank, its branches and its customers read times in
/// Japan Standard Time, whatever the server's own time zone.
public enum JapanTime {
    /// How a date is shown.
    public enum Style: Sendable {
        /// `2026-11-28 21:05`: staff lists and audit views.
        case stamp
        /// `2026-11-28`: day ranges such as a card's expected arrival.
        case day
        /// `2026年11月28日 21:05`: customer pages in Japanese.
        case japanese
        /// `28 Nov 2026 21:05 JST`: customer pages in English.
        case english
    }

    /// The date as text in the given style, in Japan time.
    public static func text(_ date: Date, _ style: Style) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Asia/Tokyo")
        formatter.calendar = Calendar(identifier: .gregorian)
        switch style {
        case .stamp: formatter.locale = Locale(identifier: "en_US_POSIX"); formatter.dateFormat = "yyyy-MM-dd HH:mm"
        case .day: formatter.locale = Locale(identifier: "en_US_POSIX"); formatter.dateFormat = "yyyy-MM-dd"
        case .japanese: formatter.locale = Locale(identifier: "ja_JP"); formatter.dateFormat = "yyyy年M月d日 HH:mm"
        case .english: formatter.locale = Locale(identifier: "en_GB"); formatter.dateFormat = "d MMM yyyy HH:mm 'JST'"
        }
        return formatter.string(from: date)
    }
}
