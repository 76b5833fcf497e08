import BizDirectCore
import CertificateAuthority
import Foundation
import NIOCore
import RegistrationAuthority
import Testing
import TestSupport
@testable import WebFrontEnd

/// Limits that keep the server up when clients misbehave (issue: "No input from the network can
/// take BizDirect down"). Every test talks to a live server on 127.0.0.1 and is bounded.
@Suite("Bounded resources")
struct BoundedResourcesTests {
    static func fastLimits() -> ConnectionLimits {
        var limits = ConnectionLimits()
        limits.firstRequestDeadline = .seconds(2)
        limits.keepAliveDeadline = .seconds(2)
        limits.bodyDeadline = .seconds(2)
        return limits
    }

    static func request(_ connection: RawConnection, _ text: String) async -> String {
        connection.send(Array(text.utf8))
        return String(decoding: await connection.readAll(limit: 64 * 1024), as: UTF8.self)
    }

    @Test("200 slow connections (a byte at a time) are closed at their deadline, and normal requests are answered while they are held open")
    func slowloris() async throws {
        // The slow clients' deadline is long enough for three normal requests even on a loaded CI
        // machine; what is asserted is the order (answered while every slow client is still held),
        // never a wall-clock bound on the answer.
        var limits = Self.fastLimits()
        limits.firstRequestDeadline = .seconds(8)
        let server = try await LiveServer.start(limits: limits); defer { Task { await server.stop() } }
        let publicPort = server.port(server.publicURL), httpPort = server.port(server.publicationURL)
        // Half start a TLS handshake, half an HTTP request head; each sends one byte at a time.
        let slow = (0..<200).compactMap { RawConnection(port: $0.isMultiple(of: 2) ? publicPort : httpPort) }
        #expect(slow.count == 200)
        let heads: [[UInt8]] = [[0x16, 0x03, 0x01], Array("GET /ca/root-ca.pem HTTP/1.1\r\nHost: x\r\n".utf8)]
        for round in 0..<3 {
            for (index, connection) in slow.enumerated() {
                let head = heads[index % 2]
                connection.send([head[round % head.count]])
            }
            let browser = try server.browser(nil)
            let page = try await browser.get(server.publicURL + "/")
            await browser.close()
            #expect(page.status == 200)
            let dropped = slow.filter(\.isClosedByPeer).count
            #expect(dropped == 0, "a normal request was answered only after \(dropped) slow clients were dropped")
            try await Task.sleep(for: .milliseconds(300))
        }
        // Bounded wait: every slow connection is closed once its deadline has passed.
        let deadline = ContinuousClock.now + .seconds(20)
        while slow.contains(where: { !$0.isClosedByPeer }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let stillOpen = slow.filter { !$0.isClosedByPeer }.count
        #expect(stillOpen == 0, "\(stillOpen) slow connections were still open past their deadline")
    }

    @Test("both HTTPS listeners offer TLS 1.3, and TLS 1.2 with ECDHE AEAD suites only: no CBC, no static RSA, no TLS 1.1",
          .enabled(if: ExternalTool.find("openssl") != nil, "needs openssl s_client"))
    func tlsOffer() async throws {
        let openssl = try #require(ExternalTool.find("openssl"))
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        for url in [server.publicURL, server.logonURL] {
            let endpoint = "127.0.0.1:\(server.port(url))"
            func handshake(_ options: [String]) async throws -> (ok: Bool, output: String) {
                let result = try await ExternalTool.run(openssl, ["s_client", "-connect", endpoint, "-servername", "localhost"] + options)
                return (result.output.contains("Cipher is ") && !result.output.contains("Cipher is (NONE)"), result.output)
            }
            for aead in ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"] {
                let result = try await handshake(["-tls1_2", "-cipher", aead])
                #expect(result.ok && result.output.contains(aead), "\(endpoint) \(aead): \(result.output.suffix(300))")
            }
            for refused in ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA256", "AES128-SHA", "AES128-GCM-SHA256"] {
                #expect(try await handshake(["-tls1_2", "-cipher", refused]).ok == false, "\(endpoint) offers \(refused)")
            }
            #expect(try await handshake(["-tls1_3"]).output.contains("TLSv1.3"), "\(endpoint) TLS 1.3")
            #expect(try await handshake(["-tls1_1", "-cipher", "ALL:@SECLEVEL=0"]).ok == false, "\(endpoint) offers TLS 1.1")
        }
    }

    @Test("an idle keep-alive connection is closed after its deadline")
    func keepAliveDeadline() async throws {
        let server = try await LiveServer.start(limits: Self.fastLimits()); defer { Task { await server.stop() } }
        let connection = try #require(RawConnection(port: server.port(server.publicationURL)))
        connection.send(Array("GET /ca/root-ca.pem HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        try await Task.sleep(for: .milliseconds(500))
        #expect(connection.drain() > 0, "answered")
        #expect(!connection.isClosedByPeer, "and kept alive")
        try await Task.sleep(for: .seconds(3))
        #expect(connection.isClosedByPeer)
    }

    @Test("100 KB of headers get 431; the server goes on answering")
    func oversizedHeaders() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let connection = try #require(RawConnection(port: server.port(server.publicationURL)))
        let filler = (0..<100).map { "X-Filler-\($0): \(String(repeating: "a", count: 1000))\r\n" }.joined()
        let answer = await Self.request(connection, "GET /ca/root-ca.pem HTTP/1.1\r\nHost: x\r\n\(filler)\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 431"), "\(answer.prefix(80))")
        let browser = try server.browser(nil); defer { Task { await browser.close() } }
        #expect(try await browser.get(server.publicationURL + "/ca/root-ca.pem").status == 200)
    }

    @Test("10,000 slashes in a path are answered, not a trap")
    func manySlashes() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let connection = try #require(RawConnection(port: server.port(server.publicationURL)))
        let answer = await Self.request(connection, "GET \(String(repeating: "/", count: 10_000))ocsp/MAA= HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 "), "\(answer.prefix(80))")
        let browser = try server.browser(nil); defer { Task { await browser.close() } }
        #expect(try await browser.get(server.publicationURL + "/ca/root-ca.pem").status == 200)
    }

    @Test("POST /ocsp with 30 00, GET /ocsp/MAA= and a 10 MB body get malformedRequest; the server stays up")
    func hostileOCSPOverHTTP() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        // The 10 MB body is announced in full; the answer comes once 16 KiB have arrived, so the
        // test sends 20 KiB and reads (sending the rest into a closed connection would only race the answer).
        for (length, body) in [(2, [UInt8]([0x30, 0x00])), (10 * 1024 * 1024, [UInt8](repeating: 0x30, count: 20 * 1024))] {
            let connection = try #require(RawConnection(port: server.port(server.publicationURL)))
            connection.send(Array("POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nContent-Length: \(length)\r\nConnection: close\r\n\r\n".utf8))
            connection.send(body)
            let answer = await connection.readAll()
            #expect(String(decoding: answer.prefix(12), as: UTF8.self) == "HTTP/1.1 200")
            #expect(answer.suffix(5) == OCSPResponder.malformedResponse[...])
        }
        let get = try #require(RawConnection(port: server.port(server.publicationURL)))
        get.send(Array("GET /ocsp/MAA= HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        let answer = await get.readAll()
        #expect(answer.suffix(5) == OCSPResponder.malformedResponse[...])
        let browser = try server.browser(nil); defer { Task { await browser.close() } }
        #expect(try await browser.get(server.publicationURL + "/ca/root-ca.pem").status == 200)
    }

    @Test("a form body over the configured limit is refused with 413 in the customer's language")
    func oversizedForm() async throws {
        let server = try await LiveServer.start { $0.maximumBodySize = 4096 }; defer { Task { await server.stop() } }
        let browser = try server.browser(nil); defer { Task { await browser.close() } }
        let page = try await browser.post(server.publicURL + "/acquire/administrator/challenge", form: ["contractID": String(repeating: "1", count: 8000)])
        #expect(page.status == 413)
        #expect(page.body.contains("送信された内容が大きすぎます"))
    }

    @Test("200 parallel downloads of a stale CRL publish exactly one new CRL")
    func crlBurst() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        _ = try await server.ra.certificates.currentCRL()
        let before = try #require(try await server.ra.store.currentCRL()).number
        server.clock.advance(by: 86_400 / 2 + 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { _ = try await server.ra.certificates.currentCRL() } }
            try await group.waitForAll()
        }
        #expect(try #require(try await server.ra.store.currentCRL()).number == before + 1)
    }

    @Test("a flood of OCSP requests for one certificate is answered from one signature; a revocation shows at once")
    func ocspFlood() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let credential = try await server.ra.enrolStaff()
        let issuer = server.ra.tlsMaterial.issuingCADER
        let request = try OCSPRequests.make(serialHex: credential.serial, issuerDER: issuer)
        let id = try OCSPRequests.certID(serialHex: credential.serial, issuerDER: issuer)
        let first = await server.ra.certificates.respondOCSP(request)
        #expect(OCSPRequests.status(in: first, certID: id) == "good")
        // ECDSA signatures are randomised: byte-equal answers were signed once.
        for _ in 0..<500 { #expect(await server.ra.certificates.respondOCSP(request) == first, "cached, byte for byte") }
        try await server.ra.certificates.revoke(serial: credential.serial, reason: .keyCompromise, actor: "test")
        let after = await server.ra.certificates.respondOCSP(request)
        #expect(OCSPRequests.status(in: after, certID: id) == "revoked", "a revocation drops the cached response")
    }

    @Test("PIN hashing is bounded: past its capacity callers get 503 with Retry-After, and anonymous callers leave room for logons")
    func hashGate() throws {
        let gate = HashGate(capacity: 4, anonymousShare: 2)
        try gate.enter(anonymous: true)
        try gate.enter(anonymous: true)
        #expect(throws: BizDirectError.unavailable("request.busy", "")) { try gate.enter(anonymous: true) }
        try gate.enter(anonymous: false)
        try gate.enter(anonymous: false)
        #expect(throws: BizDirectError.unavailable("request.busy", "")) { try gate.enter(anonymous: false) }
        gate.leave(anonymous: true)
        try gate.enter(anonymous: false)
        #expect(gate.depth == 4)
        #expect(ErrorPageMiddleware.status(.unavailable).code == 503)
    }

    @Test("a flood of anonymous acquisitions past the hashing capacity gets 503 with Retry-After, and the server recovers")
    func hashingFloodOverHTTP() async throws {
        let server = try await LiveServer.start {
            $0.scryptLogN = 15; $0.pinHashCapacity = 2; $0.anonymousPINHashShare = 1
            $0.attemptsPerMinute = 1_000; $0.attemptsPerAccountPerMinute = 1_000
        }
        defer { Task { await server.stop() } }
        let contract = try ContractID(body: "1000000001").digits
        let csr = Data(try CertificateFixtures.csr(key: CertificateFixtures.p256().1)).base64EncodedString()
        let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let browser = try server.browser(nil)
                    let form = try await browser.get(server.publicURL + "/acquire/user")
                    let reply = try await browser.postJSON(server.publicURL + "/acquire/issue", [
                        "kind": "user", "csrf": form.field("csrf") ?? "", "csr": csr, "contractID": contract, "userID": "nobody1",
                        "pin": "wrong1x", "confirmationPIN": "wrong2x",
                    ])
                    await browser.close()
                    return (reply.status, reply.headers["Retry-After"].first)
                }
            }
            var all: [(Int, String?)] = []
            for try await status in group { all.append(status) }
            return all
        }
        #expect(statuses.contains { $0.0 == 503 && $0.1 == "2" }, "\(statuses)")
        #expect(statuses.allSatisfy { $0.0 == 503 || $0.0 == 401 }, "\(statuses)")
        let browser = try server.browser(nil); defer { Task { await browser.close() } }
        #expect(try await browser.get(server.publicURL + "/").status == 200)
    }

    @Test("a request that decides nothing about a person writes no audit row")
    func nonDecisionsAreNotAudited() async throws {
        let server = try await LiveServer.start { $0.attemptsPerMinute = 2 }; defer { Task { await server.stop() } }
        let before = try await server.ra.verifyAuditChain().count
        let anonymous = try server.browser(nil); defer { Task { await anonymous.close() } }
        _ = try await anonymous.get(server.logonURL + "/logon")                 // no certificate
        anonymous.cookies["__Host-bizdirect_session"] = "unknown-token"
        _ = try await anonymous.get(server.logonURL + "/home")                  // unknown session
        for _ in 0..<4 { _ = try await anonymous.post(server.logonURL + "/logon/pin", form: ["pin": "x"]) } // rate-limited
        #expect(try await server.ra.verifyAuditChain().count == before)
    }

    @Test("audit fields taken from a request are cut to a bounded length")
    func auditFieldsBounded() {
        let event = AuditEvent(actor: "anonymous", action: "web.request", target: String(repeating: "/a", count: 50_000), outcome: .denied("x"))
        #expect(event.target.count == AuditEvent.maximumFieldLength)
    }
}

@Suite("Form decoding")
struct FormDecodingTests {
    @Test("form bodies decode as browsers send them; bad escapes and odd pairs never trap", arguments: [
        ("a=b&c=d", ["a": "b", "c": "d"]),
        ("pin=%EF%BC%91234ab", ["pin": "１234ab"]),
        ("a=1&a=2", ["a": "2"]),
        ("c", ["c": ""]),
        ("=x", ["": "x"]),
        ("a=%zz&b=%", ["a": "", "b": ""]),
        ("a=x+y%2Bz", ["a": "x y+z"]),
        ("&&&", [:]),
    ] as [(String, [String: String])])
    func parse(_ body: String, _ expected: [String: String]) {
        #expect(Forms.parse(body) == expected)
    }
}
