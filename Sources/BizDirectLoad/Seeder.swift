import BizDirectCore
import FluentKit
import Foundation
import RegistrationAuthority
import Storage
import TestSupport

/// Fills a benchmark database: a few real users made through the RA (whose keys the load client
/// holds), and filler holders and certificates by bulk insert, so that every index the logon and
/// OCSP paths read is as large as a big bank's.
enum Seeder {
    /// The PIN every sample user logs on with.
    static let userPIN = "user1pin"

    static func seed() async throws {
        let holders = Int(required("holders")) ?? 1_000
        let sample = min(Int(option("sample") ?? "") ?? 32, 90)
        let out = URL(fileURLWithPath: required("out"))
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let filler = max(holders - sample, 0)
        let (sampleSeconds, fillerSeconds) = try await withRA { ra in
            let start = ContinuousClock.now
            let pinHash = try await sampleUsers(ra, count: sample, out: out)
            let sampleSeconds = seconds(since: start)
            let fillerStart = ContinuousClock.now
            try await fill(ra.store, holders: filler, pinHash: pinHash)
            try writeTLSMaterial(ra.tlsMaterial, to: out)
            return (sampleSeconds, seconds(since: fillerStart))
        }
        print(String(format: "seed: %d sample users through the RA in %.1f s; %d filler holders + %d certificates by bulk insert in %.1f s (%.0f holders/s)",
                     sample, sampleSeconds, filler, filler, fillerSeconds, Double(filler) / max(fillerSeconds, 0.001)))
    }

    /// One contract onboarded by two staff, `count` users registered and acquired as the browser
    /// does; each user's key and certificate go to `out/user-N.{key,pem}`. The users have chosen
    /// their own PIN already (must-change cleared), so a logon is certificate → PIN → home.
    /// Returns the users' stored PIN hash, which the filler holders reuse.
    static func sampleUsers(_ ra: RegistrationAuthority, count: Int, out: URL) async throws -> String {
        let contract = try await ra.onboardContract(company: "負荷試験株式会社")
        _ = try await ra.acquireAdministrator(contract)
        var pinHash: String?
        for index in 0..<count {
            let userID = "load\(index)"
            try await ra.registerUser(contract, userID: userID, name: "利用者\(index)", pin: userPIN, confirmationPIN: "conf1pin")
            let credential = try await ra.acquireCredential(.user(contractID: contract.contractID, userID: userID), pin: userPIN, confirmationPIN: "conf1pin")
            try Data(credential.keyPEM.utf8).write(to: out.appendingPathComponent("user-\(index).key"))
            try Data(credential.certificatePEM.utf8).write(to: out.appendingPathComponent("user-\(index).pem"))
            guard let holder = try await ra.store.holder(id: credential.holderID) else { continue }
            holder.mustChangePIN = false
            try await ra.store.update(holder)
            pinHash = holder.pinHash
        }
        guard let pinHash else { throw BizDirectError.internal("load.noSample", "no sample user was made") }
        return pinHash
    }

    /// `holders` filler holders in contracts of ten (an administrator and nine users), each with
    /// one certificate row, in transactions of 1,000 holders. Serials are `5a` + 30 hex digits of
    /// the index, so filler serial N is known to the OCSP and CRL floods. The certificate DER is
    /// 560 random bytes (the size of a real one): the measured paths look certificates up by
    /// serial or fingerprint and never parse a filler's DER.
    static func fill(_ store: Store, holders: Int, pinHash: String) async throws {
        let now = Date(), batch = 1_000
        var random = SystemRandomNumberGenerator()
        for first in stride(from: 0, to: holders, by: batch) {
            let range = first..<min(first + batch, holders)
            var contracts: [ContractModel] = [], people: [HolderModel] = [], certificates: [CertificateModel] = []
            for index in range {
                let contractID = String(format: "9%010d", index / 10)
                if index % 10 == 0 { contracts.append(contract(contractID, now)) }
                let person = holder(index, contractID: contractID, pinHash: pinHash, now)
                people.append(person)
                certificates.append(certificate(index, holderID: person.id ?? UUID(), now, random: &random))
            }
            let (newContracts, newHolders, newCertificates) = (contracts, people, certificates)
            try await store.transaction { tx in
                if !newContracts.isEmpty { try await newContracts.create(on: tx.database) }
                try await newHolders.create(on: tx.database)
                try await newCertificates.create(on: tx.database)
            }
        }
    }

    /// The serial of filler certificate `index`.
    static func fillerSerial(_ index: Int) -> String { String(format: "5a%030x", index) }

    static func contract(_ contractID: String, _ now: Date) -> ContractModel {
        let row = ContractModel()
        row.id = UUID()
        row.contractID = contractID
        row.companyName = "充填商事\(contractID)"
        row.branch = "本店"
        row.administratorName = "管理者"
        row.status = "active"
        row.version = 1
        row.createdAt = now
        return row
    }

    static func holder(_ index: Int, contractID: String, pinHash: String, _ now: Date) -> HolderModel {
        let row = HolderModel()
        row.id = UUID()
        row.role = index % 10 == 0 ? Role.administrator.rawValue : Role.user.rawValue
        row.scope = contractID
        row.loginID = index % 10 == 0 ? "admin" : "user\(index % 10)"
        row.name = "充填\(index)"
        row.pinHash = pinHash
        row.failureCount = 0
        row.mustChangePIN = false
        row.acquisitionFailures = 0
        row.createdAt = now
        return row
    }

    static func certificate(_ index: Int, holderID: UUID, _ now: Date, random: inout SystemRandomNumberGenerator) -> CertificateModel {
        let der = (0..<560).map { _ in UInt8.random(in: 0...255, using: &random) }
        let row = CertificateModel()
        row.id = UUID()
        row.serial = fillerSerial(index)
        row.holderID = holderID
        row.der = Data(der)
        row.notBefore = now.addingTimeInterval(-86_400)
        row.notAfter = now.addingTimeInterval(364 * 86_400)
        row.spkiHash = Store.sha256Hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &random) })
        row.fingerprint = Store.sha256Hex(der)
        row.status = "active"
        row.createdAt = now
        return row
    }

    /// The server's TLS certificate and key and the client chain, for the nginx anchor.
    static func writeTLSMaterial(_ material: RegistrationAuthority.TLSMaterial, to out: URL) throws {
        try Data(material.serverChainPEM.joined(separator: "\n").utf8).write(to: out.appendingPathComponent("server.pem"))
        try Data(material.serverKeyPEM.utf8).write(to: out.appendingPathComponent("server.key"))
        try Data((material.issuingCAPEM + "\n" + material.rootCAPEM).utf8).write(to: out.appendingPathComponent("client-ca.pem"))
        try Data((material.tlsCAPEM ?? material.serverChainPEM.last ?? "").utf8).write(to: out.appendingPathComponent("tls-ca.pem"))
    }

    /// `--count` live sessions (stage complete), bound round-robin to the sample users'
    /// certificates; `out/sessions.txt` has one `INDEX TOKEN` line each for the load client.
    static func sessions() async throws {
        let count = Int(required("count")) ?? 10_000
        let out = URL(fileURLWithPath: required("out"))
        try await withRA { ra in try await makeSessions(ra, count: count, out: out) }
    }

    static func makeSessions(_ ra: RegistrationAuthority, count: Int, out: URL) async throws {
        var lines: [String] = []
        var index = 0
        var random = SystemRandomNumberGenerator()
        while FileManager.default.fileExists(atPath: out.appendingPathComponent("user-\(index).pem").path) { index += 1 }
        let samples = index
        guard samples > 0 else { throw BizDirectError.internal("load.noSample", "seed first") }
        var bound: [(UUID, String)] = []
        for sample in 0..<samples {
            let pem = try String(contentsOf: out.appendingPathComponent("user-\(sample).pem"), encoding: .utf8)
            let der = try CertificateFixtures.derOfPEM(pem)
            guard let row = try await ra.store.certificate(fingerprint: Store.sha256Hex(der)) else { continue }
            bound.append((row.holderID, row.fingerprint))
        }
        let now = Date()
        for number in 0..<count {
            let (holderID, fingerprint) = bound[number % bound.count]
            let token = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            _ = try await ra.store.insertSession(tokenHash: Store.sha256Hex(Array(token.utf8)), holderID: holderID, certificateFingerprint: fingerprint,
                                                 stage: "complete", csrfToken: UUID().uuidString, idleTimeout: 1800, at: now)
            lines.append("\(number % bound.count) \(token)")
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: out.appendingPathComponent("sessions.txt"))
        print("sessions: \(count) live sessions over \(bound.count) certificates")
    }
}
