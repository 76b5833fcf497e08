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

    /// The date as text in the given style, in Japan time. Computed, not formatted by ICU: Japan
    /// has kept UTC+9 without daylight saving since 1951, and a `DateFormatter` made per call cost
    /// about a tenth of every page view's CPU (the load benchmark's profile). `JapanTimeTests`
    /// checks it against `DateFormatter` across years, months and midnight.
    public static func text(_ date: Date, _ style: Style) -> String {
        let parts = CivilTime(date, offsetSeconds: 9 * 3600)
        let time = two(parts.hour) + ":" + two(parts.minute)
        switch style {
        case .stamp: return isoDay(parts) + " " + time
        case .day: return isoDay(parts)
        case .japanese: return "\(parts.year)年\(parts.month)月\(parts.day)日 " + time
        case .english: return "\(parts.day) \(monthAbbreviations[parts.month - 1]) \(parts.year) " + time + " JST"
        }
    }

    /// English month abbreviations as en_GB shows them.
    static let monthAbbreviations = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// `2026-11-28`.
    static func isoDay(_ time: CivilTime) -> String {
        String(repeating: "0", count: max(0, 4 - String(time.year).count)) + String(time.year) + "-" + two(time.month) + "-" + two(time.day)
    }
}

/// The proleptic Gregorian date and time of an instant at a fixed offset from UTC, by arithmetic
/// (days-from-civil inverted, H. Hinnant's algorithm), in whole seconds rounded down. For Japan
/// time (UTC+9, no daylight saving) and for the UTC times in certificates and CRLs, where a
/// `Calendar` asked six times per date cost most of a 10⁵-entry CRL's encoding.
public struct CivilTime: Sendable, Equatable {
    /// The year, 1…12 month, 1…31 day, 0…23 hour, 0…59 minute and second.
    public let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    /// `date` at `offsetSeconds` east of UTC.
    public init(_ date: Date, offsetSeconds: Int = 0) {
        let seconds = Int((date.timeIntervalSince1970 + Double(offsetSeconds)).rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        hour = secondOfDay / 3600
        minute = secondOfDay % 3600 / 60
        second = secondOfDay % 60
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }
}
