import BizDirectCore
import CertificateAuthority
import FluentKit
import Foundation
import RegistrationAuthority
import Storage
import TestSupport

/// The in-process measurements of the load benchmark: OCSP floods against the seeded database
/// beside their anchor, one CRL publication with many revoked entries, and the PIN hash.
enum Floods {
    /// Runs `count` calls of `body`, `inFlight` at a time; returns calls per second.
    static func flood(_ count: Int, inFlight: Int = 64, _ body: @escaping @Sendable (Int) async -> Void) async -> Double {
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            while next < min(inFlight, count) { let index = next; group.addTask { await body(index) }; next += 1 }
            while await group.next() != nil, next < count { let index = next; group.addTask { await body(index) }; next += 1 }
        }
        return Double(count) / seconds(since: start)
    }

    static func ocsp() async throws {
        let requests = Int(required("requests")) ?? 20_000
        try await withRA { ra in try await ocsp(ra, requests: requests) }
    }

    static func ocsp(_ ra: RegistrationAuthority, requests: Int) async throws {
        let issuer = ra.tlsMaterial.issuingCADER
        let filler = try await fillerCount(ra.store)
        guard filler > 0 else { throw BizDirectError.internal("load.noFiller", "seed filler holders first") }

        // The anchor: the CA alone, parse + sign, status known in advance (no database).
        let hierarchyFolder = FileManager.default.temporaryDirectory.appendingPathComponent("bizdirect-load-ca-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: hierarchyFolder) }
        let hierarchy = try CAHierarchy.open(directory: hierarchyFolder.appendingPathComponent("ca"), tls: .embedded(hostNames: ["localhost"]), bankName: "Bench Bank",
                                             keyFile: KeyFile(passphrase: nil), now: Date(), mayCreate: true)
        let anchorSerial = Seeder.fillerSerial(1)
        let anchorRequest = try OCSPRequests.make(serialHex: anchorSerial, issuerDER: try CAHierarchy.der(hierarchy.issuing))
        let responder = hierarchy.ocspResponder.responder(responseLifetime: 3600)
        let anchorStart = ContinuousClock.now
        for _ in 0..<requests {
            let query = try OCSPResponder.parse(anchorRequest)
            _ = responder.respond(to: query, statuses: [anchorSerial: .good], now: Date())
        }
        let anchor = Double(requests) / seconds(since: anchorStart)

        // Distinct stored serials: each a database lookup and a signature.
        let distinct = try (0..<requests).map { try OCSPRequests.make(serialHex: Seeder.fillerSerial(($0 * 7_919) % filler), issuerDER: issuer) }
        let distinctRate = await flood(requests) { index in _ = await ra.certificates.respondOCSP(distinct[index]) }
        // One serial again and again: the response cache.
        let one = distinct[0]
        let oneRate = await flood(requests) { _ in _ = await ra.certificates.respondOCSP(one) }
        let good = OCSPRequests.status(in: await ra.certificates.respondOCSP(distinct[1]),
                                       certID: try OCSPRequests.certID(serialHex: Seeder.fillerSerial(7_919 % filler), issuerDER: issuer))
        print(String(format: "ocsp: anchor (CA parse+sign, no database) %.0f/s; distinct serials of %d stored %.0f/s (%.2fx anchor); one serial %.0f/s (%.2fx anchor); a filler serial answers %@",
                     anchor, filler, distinctRate, distinctRate / anchor, oneRate, oneRate / anchor, good))
    }

    /// How many filler certificates the seed made (their serials are dense from 0).
    static func fillerCount(_ store: Store) async throws -> Int {
        try await CertificateModel.query(on: store.database).filter(\.$serial =~ "5a").count()
    }

    static func crl() async throws {
        let revoke = Int(required("revoke")) ?? 100_000
        try await withRA { ra in try await crl(ra, revoke: revoke) }
    }

    static func crl(_ ra: RegistrationAuthority, revoke: Int) async throws {
        let filler = try await fillerCount(ra.store)
        let upTo = min(revoke, filler)
        let now = Date()
        try await CertificateModel.query(on: ra.store.database)
            .filter(\.$serial >= Seeder.fillerSerial(0)).filter(\.$serial < Seeder.fillerSerial(upTo))
            .set(\.$status, to: "revoked").set(\.$revokedAt, to: now).set(\.$revocationReason, to: 1)
            .update()
        let start = ContinuousClock.now
        let der = try await ra.certificates.publishCRL()
        let elapsed = seconds(since: start)
        print(String(format: "crl: %d revoked entries published in %.3f s (%.1f MB)", upTo, elapsed, Double(der.count) / 1_000_000))
    }

    static func pinHash() async throws {
        let count = Int(option("count") ?? "") ?? 20
        let logN = BizDirectConfiguration(dataDirectory: URL(fileURLWithPath: "/")).scryptLogN
        let hasher = PINHasher(pepper: Array(repeating: 1, count: 32), logN: logN, random: SystemRandom())
        let start = ContinuousClock.now
        for _ in 0..<count { _ = try await hasher.hash(PIN("abc123")) }
        print(String(format: "pin-hash: scrypt N=2^%d r=8 p=1, %.1f ms each (%d hashes)", logN, seconds(since: start) * 1000 / Double(count), count))
    }
}
