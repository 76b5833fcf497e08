import BizDirectCore
import Testing
import WebFrontEnd

/// The PROXY protocol header (v1 and v2) and trusted-proxy entries, by known answers. The
/// fuzzer (`Fuzz/run proxy`) covers everything else a connection can start with.
@Suite("PROXY header and trusted proxies")
struct ProxyHeaderTests {
    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    @Test("v1 names the client; the TLS bytes after it are not part of the header")
    func version1() throws {
        let line = Array("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n".utf8)
        #expect(try ProxyHeader.parse(line + [0x16, 0x03, 0x01]) == .header(length: line.count, source: IPAddress("192.0.2.1")))
        #expect(try ProxyHeader.parse(Array("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n".utf8)) != .needMore)
        #expect(try ProxyHeader.parse(Array("PROXY UNKNOWN\r\n".utf8)) == .header(length: 15, source: nil))
        #expect(try ProxyHeader.parse(Array("PROXY TCP4 192.0".utf8)) == .needMore)
        for bad in ["PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n", "PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n",
                    "PROXY TCP4 192.0.2.1 198.51.100.2 0 443\r\n", "PROXY TCP4 192.0.2.1 198.51.100.2 1 443\n", "GET / HTTP/1.1\r\n",
                    "PROXY " + String(repeating: "9", count: 120)] {
            #expect(throws: BizDirectError.self, "\(bad)") { try ProxyHeader.parse(Array(bad.utf8)) }
        }
    }

    @Test("v2 names the client for PROXY over TCP, nobody for LOCAL; short or oversized headers are refused")
    func version2() throws {
        let tcp4 = Self.v2Signature + [0x21, 0x11, 0x00, 0x0C, 192, 0, 2, 1, 198, 51, 100, 2, 0xDC, 0x04, 0x01, 0xBB]
        #expect(try ProxyHeader.parse(tcp4 + [0x16]) == .header(length: 28, source: IPAddress("192.0.2.1")))
        #expect(try ProxyHeader.parse(Array(tcp4.prefix(20))) == .needMore)
        #expect(try ProxyHeader.parse(Self.v2Signature + [0x20, 0x00, 0x00, 0x00]) == .header(length: 16, source: nil))
        #expect(throws: BizDirectError.self) { try ProxyHeader.parse(Self.v2Signature + [0x21, 0x11, 0x00, 0x04, 1, 2, 3, 4]) }
        #expect(throws: BizDirectError.self) { try ProxyHeader.parse(Self.v2Signature + [0x21, 0x11, 0xFF, 0xFF]) }
        #expect(throws: BizDirectError.self) { try ProxyHeader.parse(Self.v2Signature + [0x31, 0x11, 0x00, 0x0C]) }
    }

    @Test("trusted-proxy entries: single addresses and CIDR networks, IPv4-mapped IPv6 as IPv4; bad entries name themselves")
    func ranges() throws {
        let network = try AddressRange(parsing: "10.0.0.0/8")
        let inside = try #require(IPAddress("10.200.3.4")), outside = try #require(IPAddress("11.0.0.1"))
        #expect(network.contains(inside) && !network.contains(outside))
        #expect(network.contains(try #require(IPAddress("::ffff:10.1.1.1"))))
        #expect(try AddressRange(parsing: "127.0.0.9").contains(try #require(IPAddress("127.0.0.9"))))
        #expect(!(try AddressRange(parsing: "127.0.0.9")).contains(try #require(IPAddress("127.0.0.1"))))
        #expect(try AddressRange(parsing: "fd00::/8").contains(try #require(IPAddress("fd12::1"))))
        #expect(!(try AddressRange(parsing: "fd00::/8")).contains(try #require(IPAddress("10.0.0.1"))))
        for bad in ["", "10.0.0.0/33", "10.0.0.0/-1", "bank.example", "10.0.0.0/8/8", "::1/129"] {
            #expect(throws: BizDirectError.self, "\(bad)") { try AddressRange(parsing: bad) }
        }
    }
}
