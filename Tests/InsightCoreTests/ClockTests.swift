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
