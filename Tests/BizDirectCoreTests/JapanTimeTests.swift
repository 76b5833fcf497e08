import BizDirectCore
import Foundation
import Testing

@Suite("JapanTime")
struct JapanTimeTests {
    /// 2026-11-28 12:05:00 UTC, which is 21:05 in Japan.
    let noonUTC = Date(timeIntervalSince1970: 1_795_867_500)

    @Test("every style shows Japan time, whatever the server's time zone")
    func styles() {
        #expect(JapanTime.text(noonUTC, .stamp) == "2026-11-28 21:05")
        #expect(JapanTime.text(noonUTC, .day) == "2026-11-28")
        #expect(JapanTime.text(noonUTC, .japanese) == "2026年11月28日 21:05")
        #expect(JapanTime.text(noonUTC, .english) == "28 Nov 2026 21:05 JST")
    }

    @Test("a UTC afternoon is already the next day in Japan")
    func dayBoundary() {
        let lateUTC = noonUTC.addingTimeInterval(4 * 3600)   // 16:05 UTC = 01:05 next day JST
        #expect(JapanTime.text(lateUTC, .day) == "2026-11-29")
        #expect(JapanTime.text(lateUTC, .stamp) == "2026-11-29 01:05")
    }

    /// The formatter `JapanTime` used to make per call: the oracle for the computed text.
    static func icu(_ date: Date, _ style: JapanTime.Style) -> String {
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

    @Test("the computed text agrees with ICU's Asia/Tokyo formatting across 1970–2100: leap days, month ends, midnight, every month",
          arguments: [JapanTime.Style.stamp, .day, .japanese, .english])
    func agreesWithICU(style: JapanTime.Style) {
        var instants: [TimeInterval] = [0, 59, 15 * 3600 - 1, 15 * 3600, 951_782_400, 951_868_799, 4_107_542_399, 1_795_867_500]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { instants.append(TimeInterval(UInt64.random(in: 0...4_102_444_800, using: &generator))) }
        for day in stride(from: 1_735_689_600.0, to: 1_767_225_600.0, by: 86_400) { instants += [day - 9 * 3600, day - 9 * 3600 - 60] }
        for instant in instants {
            let date = Date(timeIntervalSince1970: instant)
            #expect(JapanTime.text(date, style) == Self.icu(date, style), "at \(instant)")
        }
    }

    @Test("CivilTime at UTC agrees with a Gregorian Calendar in UTC to the second, before and after 1970")
    func civilTimeAgreesWithCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        var generator = SystemRandomNumberGenerator()
        let instants = [-1.5, -86_400, 0, 59.9, 951_782_400, 4_102_444_799] + (0..<2_000).map { _ in Double(Int64.random(in: -2_208_988_800...4_102_444_800, using: &generator)) }
        for instant in instants {
            let date = Date(timeIntervalSince1970: instant)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let civil = CivilTime(date)
            #expect([civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second] == [c.year, c.month, c.day, c.hour, c.minute, c.second],
                    "at \(instant)")
        }
    }
}
