import Foundation
import InsightCore
import Testing

@Suite struct VirtualClockTests {
    @Test func sleepingAdvancesTimeExactly() async throws {
        let clock = VirtualClock()
        try await clock.sleep(seconds: 1)
        try await clock.sleep(seconds: 3)
        try await clock.sleep(seconds: 5)
        #expect(clock.elapsed == 9)
        #expect(clock.now() == VirtualClock.defaultStart.addingTimeInterval(9))
    }

    @Test func hoursAndMinutesAddUpToTheMillisecond() async throws {
        let clock = VirtualClock(start: Date(timeIntervalSince1970: 0))
        for _ in 0..<12 { try await clock.sleep(seconds: 3600) }
        try await clock.sleep(seconds: 0.001)
        #expect(clock.elapsedMillis == 43_200_001)
        #expect(clock.now().unixMillis == 43_200_001)
    }

    @Test func zeroAndNegativeWaitsLeaveTimeAlone() async throws {
        let clock = VirtualClock()
        try await clock.sleep(seconds: 0)
        clock.advance(seconds: -5)
        #expect(clock.elapsedMillis == 0)
    }

    @Test func aCancelledTaskDoesNotAdvanceTheClock() async {
        let clock = VirtualClock()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(seconds: 60)
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.elapsed == 0)
    }

    @Test func datesFormatAsTheAPIWritesThem() {
        let date = Date(timeIntervalSince1970: 1_528_303_002)
        #expect(date.iso8601 == "2018-06-06T16:36:42Z")
        #expect(date.unixMillis == 1_528_303_002_000)
    }
}

@Suite struct RFC3339Tests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"), (1_767_225_600, "2026-01-01T00:00:00Z"), (951_782_400, "2000-02-29T00:00:00Z"),
        (4_102_444_799, "2099-12-31T23:59:59Z"), (-1, "1969-12-31T23:59:59Z"),
    ])
    func formatsAndParsesBack(seconds: Double, text: String) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(RFC3339.format(date) == text)
        #expect(RFC3339.parse(text) == date)
    }

    @Test func millisecondsAndOffsets() {
        let date = Date(timeIntervalSince1970: 1_767_225_600.25)
        #expect(RFC3339.format(date, millis: true) == "2026-01-01T00:00:00.250Z")
        #expect(RFC3339.parse("2026-01-01T00:00:00.250Z") == date)
        #expect(RFC3339.parse("2026-01-01T02:00:00+02:00") == Date(timeIntervalSince1970: 1_767_225_600))
        #expect(RFC3339.parse("2026-01-01T00:00:00-05:30") == Date(timeIntervalSince1970: 1_767_225_600 + 19_800))
    }

    @Test(arguments: ["", "2026-01-01", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00", "2026-01-01T00:00:00Zjunk",
                      "2026-01-01 00:00:00Z", "2026-01-01T00:00:00.Z", "x026-01-01T00:00:00Z"])
    func rejectsWhatIsNotRFC3339(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func midnightIsUTC() {
        #expect(RFC3339.startOfDay(Date(timeIntervalSince1970: 1_767_225_600 + 86_399)) == Date(timeIntervalSince1970: 1_767_225_600))
    }

    /// Many threads at once: the reason this exists.
    @Test func isSafeFromManyTasksAtOnce() async {
        let texts = await withTaskGroup(of: String.self) { group in
            for index in 0..<200 { group.addTask { RFC3339.format(Date(timeIntervalSince1970: Double(index) * 86_400)) } }
            var all: [String] = []
            for await text in group { all.append(text) }
            return all
        }
        #expect(Set(texts).count == 200)
    }
}
