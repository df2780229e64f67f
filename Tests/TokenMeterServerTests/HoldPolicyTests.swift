import Testing
@testable import TokenMeterServer

@Suite("Hold policy: slices and fair shares")
struct HoldPolicyTests {
    let policy = HoldPolicy()

    @Test("a slice is the whole cap when the budget pays for 16 caps, 1/16 of the free output when tight, never below 32 unless less is free")
    func slicesAdaptToTheBudget() {
        #expect(policy.slice(free: .max, wanted: 16_384, streams: 1) == 16_384)      // no limit
        #expect(policy.slice(free: 16 * 16_384, wanted: 16_384, streams: 1) == 16_384)
        #expect(policy.slice(free: 16_000, wanted: 16_384, streams: 1) == 1_000)
        #expect(policy.slice(free: 320, wanted: 16_384, streams: 1) == 32)
        #expect(policy.slice(free: 20, wanted: 16_384, streams: 1) == 20)            // all that is free
        #expect(policy.slice(free: 0, wanted: 16_384, streams: 1) == 0)
        #expect(policy.slice(free: 16_000, wanted: 10, streams: 1) == 10)            // never past the cap
    }

    @Test("a slice is at most an equal share of the free output among the user's live streams, at least 1, at least what a delta needs")
    func slicesShareAmongStreams() {
        #expect(policy.slice(free: 16_000, wanted: 16_384, streams: 4) == 1_000)     // 1/16 is below 1/4
        #expect(policy.slice(free: 16_000, wanted: 16_384, streams: 100) == 160)
        #expect(policy.slice(free: 50, wanted: 16_384, streams: 60) == 1)
        #expect(policy.slice(free: 2_000, wanted: 16_384, needed: 300, streams: 60) == 300)
        #expect(policy.slice(free: 200, wanted: 16_384, needed: 300, streams: 60) == 200)  // not more than is free
    }

    @Test("60 streams starting together all get a slice, and what is free shrinks without running out")
    func concurrentAdmissionsNeverExhaustTheBudget() {
        var free = 2_000
        for live in 0..<60 {
            let slice = policy.slice(free: free, wanted: 16_384, streams: live + 1)
            #expect(slice >= 1)
            free -= slice
        }
        #expect(free > 0)
    }

    @Test("max_slice_tokens bounds slices")
    func maximumSlice() {
        var bounded = policy
        bounded.maximumSlice = 8
        #expect(bounded.slice(free: .max, wanted: 100, streams: 1) == 100)           // no limit: nothing to share
        #expect(bounded.slice(free: 1_000_000, wanted: 100, streams: 1) == 8)
        #expect(bounded.slice(free: 1_000_000, wanted: 100, needed: 20, streams: 1) == 20)
    }

    @Test("a hidden-output request holds its cap or its fair share of the free output, whichever is smaller")
    func hiddenOutputFairShare() {
        #expect(policy.hiddenOutputHold(free: .max, cap: 128_000) == 128_000)
        #expect(policy.hiddenOutputHold(free: 1_000_000, cap: 32_768) == 32_768)
        #expect(policy.hiddenOutputHold(free: 50_000, cap: 32_768) == 25_000)
        #expect(policy.hiddenOutputHold(free: 1, cap: 32_768) == 1)
        var quarter = policy
        quarter.fairSharePercent = 25
        #expect(quarter.hiddenOutputHold(free: 50_000, cap: 32_768) == 12_500)
        #expect(quarter.hiddenOutputHold(free: Int.max - 1, cap: 32_768) == 32_768)  // no overflow
    }
}
