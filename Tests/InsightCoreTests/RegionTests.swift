import InsightCore
import Testing

@Suite struct RegionTests {
    @Test(arguments: [
        ("us", Region.us), ("US3", .us3), ("United States 1", .us), ("United States - 3", .us3),
        ("united  states-2", .us2), ("Europe", .eu), ("  Japan ", .ap), ("Canada", .ca), ("australia", .au),
        ("India", .aps2), ("Middle East", .me1), ("me1", .me1),
    ])
    func namesPeopleTypeResolve(name: String, region: Region) {
        #expect(Region(name: name) == region)
    }

    @Test(arguments: ["", "us4", "Mars", "United States 4"])
    func unknownNamesDoNot(name: String) {
        #expect(Region(name: name) == nil)
    }

    @Test func hostsFollowTheRegionCode() {
        #expect(Region.us3.platformHost == "us3.api.insight.rapid7.com")
        #expect(Region.eu.logSearchHost == "eu.rest.logs.insight.rapid7.com")
        #expect(Region.ap.platformBaseURL == "https://ap.api.insight.rapid7.com")
        #expect(Region(host: "US2.API.Insight.Rapid7.com") == .us2)
        #expect(Region(host: "ca.rest.logs.insight.rapid7.com") == .ca)
        #expect(Region(host: "us.idr.insight.rapid7.com") == nil)
    }

    /// The hosts are literals, one per region and kind: they must spell the region's code.
    @Test func theLiteralHostsSpellEachRegionsCode() {
        for region in Region.allCases {
            #expect(region.platformHost == "\(region.code).api.insight.rapid7.com")
            #expect(region.logSearchHost == "\(region.code).rest.logs.insight.rapid7.com")
            #expect(region.host(.platform) == region.platformHost && region.host(.logSearch) == region.logSearchHost)
        }
    }

    /// The lookup reads the host's bytes: every emulated host in any case, and nothing near one.
    @Test func theHostLookupTakesExactlyTheEmulatedHosts() throws {
        for region in Region.allCases {
            #expect(Region.lookup(host: region.platformHost)! == (region, .platform))
            #expect(Region.lookup(host: region.logSearchHost.uppercased())! == (region, .logSearch))
        }
        for near in ["api.insight.rapid7.com", ".api.insight.rapid7.com", "xus.api.insight.rapid7.com", "us.api.insight.rapid7.com.",
                     "us.api.insight.rapid7.com:443", "us.api.insight.rapid7.co", "us.api.insight.rapid7.comm", "u.api.insight.rapid7.com",
                     "us.rest.logs.insight.rapid7.co", "us4.api.insight.rapid7.com", "us.API.insight.rapid7.com\u{0}", "üs.api.insight.rapid7.com",
                     "us.api.insight.rapid7\u{0130}com", "", "us"] {
            #expect(Region.lookup(host: near) == nil, "\(near)")
        }
    }

    @Test func theSeedListsSevenRegions() {
        #expect(Region.seedRegions.map(\.code) == ["us", "us2", "us3", "eu", "ca", "au", "ap"])
    }
}
