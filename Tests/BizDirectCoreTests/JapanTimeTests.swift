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
}
