import BizDirectCore
import CertificateAuthority
import FluentKit
import Foundation
import RegistrationAuthority
import Storage
import Testing
import TestSupport

@Suite("CertificateService")
struct CertificateServiceTests {
    @Test("bad requests are refused with their reason, audited, and nothing is issued or stored")
    func badRequestsStoreNothing() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let staff = try await server.ra.staff.bootstrap(name: "Taro", role: .clerk, pin: nil, csr: nil, actor: "test")
        let key = CertificateFixtures.p256().1
        let firstCSR = try CertificateFixtures.csr(key: key)
        _ = try await server.ra.certificates.issue(IssueCertificateRequest(holderID: staff.holderID, csr: firstCSR, actor: "test"))
        let before = try await CertificateModel.query(on: server.ra.store.database).count()
        var cases = try CertificateFixtures.badRequests()
        cases.append(("already-certified key", try CertificateFixtures.csr(key: key, subject: "CN=again"), "csr.keyReused"))
        for (label, bytes, reason) in cases {
            do {
                _ = try await server.ra.certificates.issue(IssueCertificateRequest(holderID: staff.holderID, csr: bytes, actor: "test"))
                Issue.record("\(label) was issued")
            } catch let error as BizDirectError {
                #expect(error.reason == reason, "\(label)")
            }
            let last = try #require(try await server.ra.store.recentAuditEvents(limit: 1).first)
            #expect(last.action == "certificate.issue" && last.outcome == "denied:\(reason)", "\(label) audit")
        }
        #expect(try await CertificateModel.query(on: server.ra.store.database).count() == before)
    }

    @Test("revocation is idempotent and keeps its first time and reason")
    func revocationIsIdempotent() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let credential = try await server.ra.enrolStaff()
        #expect(try await server.ra.certificates.revoke(serial: credential.serial, reason: .keyCompromise, actor: "test"))
        let first = try #require(try await server.ra.store.certificate(serial: credential.serial))
        server.clock.advance(by: 60)
        #expect(try await !server.ra.certificates.revoke(serial: credential.serial, reason: .superseded, actor: "test"))
        let second = try #require(try await server.ra.store.certificate(serial: credential.serial))
        #expect(second.revokedAt == first.revokedAt)
        #expect(second.revocationReason == RevocationReason.keyCompromise.rawValue)
    }

    @Test("a renewed certificate whose successor is never used is revoked as superseded at its own expiry")
    func supersededAtExpiry() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let renewing = try await server.ra.enrolStaff(name: "Renews")
        let lapsing = try await server.ra.enrolStaff(name: "Lapses")
        server.clock.advance(by: 60 * 86_400)   // staff certificates last 90 days: 30 days before expiry
        let renewed = try await server.ra.logon.renew(holderID: renewing.holderID, presentedSerial: renewing.serial, pin: PIN("abc123"),
                                                      csr: try CertificateFixtures.csr(key: CertificateFixtures.p256().1),
                                                      certificates: server.ra.certificates, clientAddress: "-")
        _ = try await server.ra.certificates.publishCRL()
        #expect(try await server.ra.store.certificate(serial: renewing.serial)?.status == "active", "still valid, successor not used yet")

        server.clock.advance(by: 40 * 86_400)   // past the first certificate's 90 days
        let crl = try await server.ra.certificates.currentCRL()
        let old = try #require(try await server.ra.store.certificate(serial: renewing.serial))
        #expect(old.status == "revoked" && old.revocationReason == RevocationReason.superseded.rawValue && old.revokedAt == old.notAfter)
        #expect(try await server.ra.store.certificate(serial: renewed.serialHex)?.status == "active")
        #expect(try await server.ra.store.certificate(serial: lapsing.serial)?.status == "active", "without a successor it simply expires")
        #expect(Self.crl(crl, lists: renewing.serial) && !Self.crl(crl, lists: lapsing.serial))
        let events = try await server.ra.store.recentAuditEvents(limit: 5, mentioning: renewing.serial)
        #expect(events.contains { $0.actor == "system:renewal" && $0.action == "certificate.revoke" && $0.outcome == "allowed" })
    }

    /// Whether the DER of a CRL holds a serial's bytes.
    static func crl(_ der: [UInt8], lists serial: String) -> Bool {
        let digits = Array(serial)
        let bytes = stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(digits[$0...$0 + 1]), radix: 16) }
        return !bytes.isEmpty && der.count >= bytes.count && (0...(der.count - bytes.count)).contains { Array(der[$0..<($0 + bytes.count)]) == bytes }
    }

    @Test("concurrent revocations each publish a CRL with its own, strictly rising number, the last listing all")
    func concurrentRevocations() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        _ = try await server.ra.certificates.currentCRL()
        let before = try #require(try await server.ra.store.currentCRL()).number
        var credentials: [Credential] = []
        for index in 0..<12 { credentials.append(try await server.ra.enrolStaff(name: "Staff \(index)")) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for credential in credentials {
                group.addTask { try await server.ra.certificates.revoke(serial: credential.serial, reason: .keyCompromise, actor: "test") }
            }
            try await group.waitForAll()
        }
        let after = try #require(try await server.ra.store.currentCRL())
        #expect(after.number == before + 12, "one number per revocation, none reused")
        #expect(credentials.allSatisfy { Self.crl(Array(after.der), lists: $0.serial) })
    }

    @Test("the server re-makes the CRL by itself once half its lifetime has passed")
    func crlRefreshedWithoutRequests() async throws {
        let server = try await LiveServer.start { $0.crlLifetime = 60 }     // the refresher looks every 3.75 s
        defer { Task { await server.stop() } }
        _ = try await server.ra.certificates.currentCRL()
        let first = try #require(try await server.ra.store.currentCRL()).number
        server.clock.advance(by: 31)
        var number = first
        for _ in 0..<60 where number == first {        // bounded: at most 15 s
            try await Task.sleep(for: .milliseconds(250))
            number = try await server.ra.store.currentCRL()?.number ?? first
        }
        #expect(number == first + 1, "a new CRL was published with nobody asking for it")
    }

    @Test("the server renews its OCSP responder certificate by itself before it expires, and answers with the new one")
    func ocspResponderRenewedWhileServing() async throws {
        let server = try await LiveServer.start { $0.ocspResponderLifetime = 3600 }     // the renewer looks every 5 s
        defer { Task { await server.stop() } }
        let file = server.caDirectory.appendingPathComponent("ocsp-responder.cert.pem")
        let first = try String(contentsOf: file, encoding: .utf8)
        let credential = try await server.ra.enrolStaff()
        let request = try OCSPRequests.make(serialHex: credential.serial, issuerDER: server.ra.tlsMaterial.issuingCADER)
        let before = await server.ra.certificates.respondOCSP(request)
        #expect(Self.contains(before, try CertificateFixtures.derOfPEM(first)))
        server.clock.advance(by: 2500)     // past two thirds of its life
        var renewed = first
        for _ in 0..<80 where renewed == first {        // bounded: at most 20 s
            try await Task.sleep(for: .milliseconds(250))
            renewed = try String(contentsOf: file, encoding: .utf8)
        }
        #expect(renewed != first, "the responder certificate was renewed with nobody restarting the server")
        let after = await server.ra.certificates.respondOCSP(request)
        #expect(Self.contains(after, try CertificateFixtures.derOfPEM(renewed)), "responses carry the renewed responder certificate")
        let events = try await server.ra.store.recentAuditEvents(limit: 50).filter { $0.action == "ca.ocspResponderRenew" }
        #expect(events.count == 1, "one renewal, one audit event")
    }

    @Test("OCSP lookups made at once are coalesced and each request still gets its own serial's status: good, revoked or unknown")
    func concurrentOCSPLookups() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let issuer = server.ra.tlsMaterial.issuingCADER
        var expected: [String: String] = [:]
        for index in 0..<9 {
            let credential = try await server.ra.enrolStaff(name: "Staff \(index)")
            if index % 3 == 0 { try await server.ra.certificates.revoke(serial: credential.serial, reason: .keyCompromise, actor: "test") }
            expected[credential.serial] = index % 3 == 0 ? "revoked" : "good"
        }
        for unknown in ["7f0000000000000000000000000001", "7f0000000000000000000000000002"] { expected[unknown] = "unknown" }
        let serials = Array(expected.keys)
        let answers = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for round in 0..<120 {
                let serial = serials[round % serials.count]
                group.addTask {
                    let request = try OCSPRequests.make(serialHex: serial, issuerDER: issuer)
                    // All start at once, before any answer is cached, so they reach the lookup together.
                    let response = await server.ra.certificates.respondOCSP(request)
                    return (serial, OCSPRequests.status(in: response, certID: try OCSPRequests.certID(serialHex: serial, issuerDER: issuer)))
                }
            }
            return try await group.reduce(into: [(String, String)]()) { $0.append($1) }
        }
        #expect(answers.count == 120)
        for (serial, status) in answers { #expect(status == expected[serial], "\(serial): \(status)") }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    @Test("a new CRL with the next number is made after each revocation")
    func crlAfterRevocation() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        _ = try await server.ra.certificates.currentCRL()
        let numberBefore = try #require(try await server.ra.store.currentCRL()).number
        let credential = try await server.ra.enrolStaff()
        try await server.ra.certificates.revoke(serial: credential.serial, reason: .superseded, actor: "test")
        let after = try #require(try await server.ra.store.currentCRL())
        #expect(after.number == numberBefore + 1)
    }
}
