import BizDirectCore
import CertificateAuthority
import Crypto
import Foundation
import Logging
import RegistrationAuthority
import Storage
import SwiftASN1
import X509

// BizDirect CA benchmarks, single core. Run in release mode:
//   swift run -c release bizdirect-benchmarks [count]
// Prints the machine's own ECDSA P-256 sign/verify rates and every figure as a ratio of them.

/// Runs `body` `count` times and returns operations per second.
func rate(_ count: Int, _ body: (Int) throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    for index in 0..<count { try body(index) }
    let elapsed = ContinuousClock.now - start
    return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

func rateAsync(_ count: Int, _ body: (Int) async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    for index in 0..<count { try await body(index) }
    let elapsed = ContinuousClock.now - start
    return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

func csr(_ key: P256.Signing.PrivateKey) throws -> [UInt8] {
    let request = try CertificateSigningRequest(version: .v1, subject: try DistinguishedName { CommonName("bench") },
                                                privateKey: .init(key), attributes: .init())
    var coder = DER.Serializer()
    try coder.serialize(request)
    return coder.serializedBytes
}

let count = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 20_000
let storedCount = min(max(count - 1_000, 0), 10_000)
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bizdirect-bench-\(UUID().uuidString.prefix(8))")
defer { try? FileManager.default.removeItem(at: directory) }

print("BizDirect CA benchmark — \(count) requests (stored: \(storedCount)); run under `taskset -c 0` for one core")
print("preparing \(count) P-256 certificate requests…")
let requests = try (0..<count).map { _ in try csr(P256.Signing.PrivateKey()) }

// The machine's own ECDSA P-256 rates, measured now.
let key = P256.Signing.PrivateKey()
let message = Array(repeating: UInt8(7), count: 400)
let signature = try key.signature(for: message)
let signRate = try rate(count) { _ in _ = try key.signature(for: message) }
let verifyRate = rate(count) { _ in _ = key.publicKey.isValidSignature(signature, for: message) }

// CSR parse + verify + sign + DER encode, no storage.
var configuration = BizDirectConfiguration(dataDirectory: directory)
configuration.scryptLogN = 10
configuration.hostNames = ["localhost"]
let hierarchy = try CAHierarchy.open(directory: configuration.caDirectory, tls: .embedded(hostNames: ["localhost"]), bankName: "Bench Bank",
                                     keyFile: KeyFile(passphrase: nil), now: Date(), mayCreate: true)
let profile = IssuanceProfile(publicationBaseURL: "http://localhost:8080", bankName: "Bench Bank")
let issuer = try CertificateIssuer(issuerCertificate: hierarchy.issuing, signer: hierarchy.issuingSigner, profile: profile, random: SystemRandom())
var lastSerial = ""
let issueRate = try rate(count) { index in
    let checked = try CSRCheck.check(requests[index])
    lastSerial = try issuer.issue(checked, subject: SubjectName(commonName: "12345678903 user\(index)", organizationalUnit: "User"), now: Date()).serialHex
}

// The same with the issuing key in a PKCS#11 token (SoftHSM in CI), when one is named:
// BIZDIRECT_BENCH_PKCS11_MODULE, _TOKEN, _PIN and _LABEL (an EC P-256 key pair in the token).
var tokenIssueRate: Double?
let environment = ProcessInfo.processInfo.environment
if let module = environment["BIZDIRECT_BENCH_PKCS11_MODULE"], let token = environment["BIZDIRECT_BENCH_PKCS11_TOKEN"],
   let pin = environment["BIZDIRECT_BENCH_PKCS11_PIN"], let label = environment["BIZDIRECT_BENCH_PKCS11_LABEL"] {
    let tokenSigner = try PKCS11Token(modulePath: module, tokenLabel: token, pin: pin).signer(label: label)
    let tokenRoot = try RootCA.create(in: directory.appendingPathComponent("token-root"), bankName: "Bench Bank",
                                      keyFile: KeyFile(passphrase: nil), now: Date())
    let tokenCA = try tokenRoot.certifyIssuingCA(publicKey: tokenSigner.publicKey, subject: RootCA.issuingSubject(bankName: "Bench Bank"), now: Date())
    let tokenIssuer = try CertificateIssuer(issuerCertificate: tokenCA, signer: tokenSigner, profile: profile, random: SystemRandom())
    let tokenCount = min(count, 2_000)
    tokenIssueRate = try rate(tokenCount) { index in
        let checked = try CSRCheck.check(requests[index])
        _ = try tokenIssuer.issue(checked, subject: SubjectName(commonName: "12345678903 user\(index)", organizationalUnit: "User"), now: Date())
    }
}

// The same through the RA with durable storage in SQLite (WAL, synchronous=FULL): one transaction
// per certificate holding the certificate row and its audit event.
var logger = Logger(label: "bench")
logger.logLevel = .error
let ra = try await RegistrationAuthority.open(configuration: configuration, logger: logger)
let holder = try await ra.staff.bootstrap(name: "Bench", role: .clerk, pin: nil, csr: nil, actor: "bench")
let sequentialCount = min(count, 1_000)
let sequentialRate = try await rateAsync(sequentialCount) { index in
    _ = try await ra.certificates.issue(IssueCertificateRequest(holderID: holder.holderID, csr: requests[index], actor: "bench"))
}
// As a server sees it: 64 requests in flight at a time, so transactions are group-committed.
let inFlight = 64
let storedStart = ContinuousClock.now
try await withThrowingTaskGroup(of: Void.self) { group in
    var next = sequentialCount
    let end = sequentialCount + storedCount
    func submit(_ index: Int) {
        group.addTask { _ = try await ra.certificates.issue(IssueCertificateRequest(holderID: holder.holderID, csr: requests[index], actor: "bench")) }
    }
    while next < min(sequentialCount + inFlight, end) { submit(next); next += 1 }
    while try await group.next() != nil {
        if next < end { submit(next); next += 1 }
    }
}
let storedElapsed = ContinuousClock.now - storedStart
let storedRate = Double(storedCount) / (Double(storedElapsed.components.seconds) + Double(storedElapsed.components.attoseconds) / 1e18)

// Signed OCSP responses: parse the request, sign a response (status known in advance).
let responder = hierarchy.ocspResponder.responder(responseLifetime: 3600)
var nameCoder = DER.Serializer()
try nameCoder.serialize(hierarchy.issuing.subject)
let issuingName = nameCoder.serializedBytes
let sha1: ASN1ObjectIdentifier = [1, 3, 14, 3, 2, 26]
/// An OCSP request for one serial of the issuing CA.
func ocspRequest(serial: [UInt8]) throws -> [UInt8] {
    var request = DER.Serializer()
    try request.appendConstructedNode(identifier: .sequence) { coder in
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        try coder.appendConstructedNode(identifier: .sequence) { try $0.serialize(sha1) }
                        try coder.serialize(ASN1OctetString(contentBytes: Array(Insecure.SHA1.hash(data: issuingName))[...]))
                        try coder.serialize(ASN1OctetString(contentBytes: Array(Insecure.SHA1.hash(data: hierarchy.issuing.publicKey.subjectPublicKeyInfoBytes))[...]))
                        coder.appendPrimitiveNode(identifier: .integer) { $0.append(contentsOf: serial) }
                    }
                }
            }
        }
    }
    return request.serializedBytes
}
let ocspDER = try ocspRequest(serial: SerialText.bytes(lastSerial))
let ocspRate = try rate(count) { _ in
    let query = try OCSPResponder.parse(ocspDER)
    _ = responder.respond(to: query, statuses: [lastSerial: .good], now: Date())
}
// Floods through the RA: one serial asked again and again (answered from the response cache),
// and distinct serials (each looked up in SQLite and signed).
let ocspStoredCount = min(count, 5_000)
let ocspStoredRate = await rateAsync(ocspStoredCount) { _ in _ = await ra.certificates.respondOCSP(ocspDER) }
let distinctRequests = try (0..<ocspStoredCount).map { try ocspRequest(serial: [0x40, UInt8(truncatingIfNeeded: $0 >> 16), UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)]) }
let ocspDistinctRate = await rateAsync(ocspStoredCount) { index in _ = await ra.certificates.respondOCSP(distinctRequests[index]) }
await ra.shutdown()

// The PIN hash at the default cost (scrypt N=2^15, r=8, p=1): the target is 50–100 ms a hash.
let pinHasher = PINHasher(pepper: Array(repeating: 1, count: 32), logN: BizDirectConfiguration(dataDirectory: directory).scryptLogN, random: SystemRandom())
let hashStart = ContinuousClock.now
for _ in 0..<10 { _ = try await pinHasher.hash(PIN("abc123")) }
let hashElapsed = ContinuousClock.now - hashStart
let hashMilliseconds = (Double(hashElapsed.components.seconds) + Double(hashElapsed.components.attoseconds) / 1e18) * 100

func line(_ label: String, _ value: Double, target: Double?) {
    let ratio = String(format: "%5.2f× sign, %5.2f× verify", value / signRate, value / verifyRate)
    let verdict = target.map { value >= $0 ? "meets target ≥\(Int($0))/s" : "BELOW target ≥\(Int($0))/s" } ?? ""
    let padded = label.padding(toLength: 58, withPad: " ", startingAt: 0)
    print("  \(padded)\(String(format: "%9.0f", value)) /s  (\(ratio))  \(verdict)")
}
print("results:")
line("ECDSA P-256 sign (swift-crypto)", signRate, target: nil)
line("ECDSA P-256 verify (swift-crypto)", verifyRate, target: nil)
line("certificates: CSR parse+verify+sign+DER", issueRate, target: 10_000)
if let tokenIssueRate {
    line("certificates, issuing key in PKCS#11 token (SoftHSM)", tokenIssueRate, target: nil)
} else {
    print("  certificates, issuing key in PKCS#11 token: not measured (set BIZDIRECT_BENCH_PKCS11_MODULE, _TOKEN, _PIN, _LABEL)")
}
line("certificates, SQLite, 1 request at a time (RA)", sequentialRate, target: nil)
line("certificates, SQLite, 64 in flight, group commit (RA)", storedRate, target: 3_000)
line("OCSP responses signed (parse+sign)", ocspRate, target: 5_000)
line("OCSP flood, one serial (RA, response cache)", ocspStoredRate, target: 30_000)
line("OCSP flood, distinct serials (RA, SQLite + sign each)", ocspDistinctRate, target: 5_000)
print(String(format: "  PIN hash, scrypt N=2^%d r=8 p=1 (default)                   %6.1f ms each (target 50–100 ms)",
             BizDirectConfiguration(dataDirectory: directory).scryptLogN, hashMilliseconds))
