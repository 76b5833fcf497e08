import BizDirectCore
@testable import CertificateAuthority
import Crypto
import Foundation
import SwiftASN1
import Testing
import TestSupport
import X509

@Suite("CAHierarchy: custody, constraints, safe key files")
struct CAHierarchyTests {
    let keyFile = KeyFile(passphrase: nil)
    /// PBKDF2 rounds for the files these tests write (the default 600,000 would only cost time;
    /// reading back uses each file's own count, so the code path is the production one).
    static let rounds = 10_000
    static let hosts = ["localhost", "127.0.0.1", "::1"]

    func caFolder(_ directory: TemporaryDirectory) -> URL { directory.url.appendingPathComponent("ca") }

    func open(_ directory: TemporaryDirectory, keyFile: KeyFile? = nil, hostNames: [String] = hosts, mayCreate: Bool = true,
              ocspLifetime: TimeInterval = OCSPResponderKeeper.defaultLifetime, now: Date = Date()) throws(BizDirectError) -> CAHierarchy {
        try CAHierarchy.open(directory: caFolder(directory), tls: .embedded(hostNames: hostNames), bankName: "Test Shinkin Bank",
                             keyFile: keyFile ?? self.keyFile, ocspLifetime: ocspLifetime, now: now, mayCreate: mayCreate)
    }

    @Test("a new installation makes a P-384 root, a client-only pathLen-0 issuing CA, an OCSP responder and a name-constrained TLS CA")
    func makesTheHierarchy() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let ca = try open(directory)
        #expect(ca.created)
        #expect(ca.root.signatureAlgorithm == .ecdsaWithSHA384)
        #expect(ca.root.notValidAfter.timeIntervalSince(ca.root.notValidBefore) > 19.9 * 365 * 86_400)
        #expect(try ca.issuing.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(try ca.issuing.extensions.extendedKeyUsage == ExtendedKeyUsage([.clientAuth, .ocspSigning]))
        #expect(ca.issuing.notValidAfter.timeIntervalSince(ca.issuing.notValidBefore) > 9.9 * 365 * 86_400)
        let responder = ca.ocspResponder.certificate
        #expect(try responder.extensions.extendedKeyUsage?.contains(.ocspSigning) == true)
        #expect(responder.extensions[oid: [1, 3, 6, 1, 5, 5, 7, 48, 1, 5]] != nil)
        #expect(responder.notValidAfter.timeIntervalSince(responder.notValidBefore) <= OCSPResponderKeeper.defaultLifetime + 600)
        // The TLS server certificate comes from the TLS CA, never from the client-certificate chain.
        let tlsCA = try #require(ca.tlsCA)
        let server = try Certificate(pemEncoded: ca.tlsCertificateChainPEM[0])
        #expect(server.issuer == tlsCA.subject && tlsCA.publicKey.isValidSignature(server.signature, for: server))
        #expect(server.issuer != ca.issuing.subject)
        #expect(try tlsCA.extensions.extendedKeyUsage == ExtendedKeyUsage([.serverAuth]))
        let constraints = try #require(try tlsCA.extensions.nameConstraints)
        #expect(tlsCA.extensions[oid: .X509ExtensionID.nameConstraints]?.critical == true)
        #expect(constraints.permittedDNSDomains == ["localhost"])
        #expect(constraints.permittedIPRanges.isEmpty, "BoringSSL refuses IP constraints; see TLSAuthority.constraints")
        #expect(constraints.excludedSubtrees.isEmpty, "127.0.0.1 and ::1 are among the host names")
        let names = try #require(try server.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("localhost")) && names.count == 3)
    }

    @Test("the root key is left outside the CA folder, and serving never needs it")
    func rootKeyStaysOutOfServe() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let made = try open(directory)
        let offline = CAHierarchy.offlineRootDirectory(caDirectory: caFolder(directory))
        #expect(made.rootKeyOnHost?.path == offline.appendingPathComponent("root-ca.pem").path)
        // No file the server reads holds the root's key.
        for name in try FileManager.default.contentsOfDirectory(atPath: caFolder(directory).path) {
            let text = (try? String(contentsOf: caFolder(directory).appendingPathComponent(name), encoding: .utf8)) ?? ""
            #expect(!name.hasPrefix("root-ca") || !text.contains("PRIVATE KEY"), "\(name) holds a key")
        }
        let root = try RootCA.open(offline, keyFile: keyFile)
        #expect(root.certificate == made.root)
        // Gone from the host, the server still opens.
        try FileManager.default.removeItem(at: offline)
        let reopened = try open(directory)
        #expect(reopened.rootFingerprint == made.rootFingerprint && reopened.rootKeyOnHost == nil)
    }

    @Test("key files are owner-only, certificates public, and a second start reuses everything")
    func reusesKeys() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let first = try open(directory)
        let second = try open(directory)
        #expect(!second.created)
        #expect(first.issuingFingerprint == second.issuingFingerprint && first.tlsCAFingerprint == second.tlsCAFingerprint)
        #expect(first.tlsServerFingerprint == second.tlsServerFingerprint)
        for name in ["issuing-ca", "ocsp-responder", "tls-ca", "tls-server"] {
            let mode = try FileManager.default.attributesOfItem(atPath: caFolder(directory).appendingPathComponent("\(name).pem").path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(name).pem mode")
            let publicMode = try FileManager.default.attributesOfItem(atPath: caFolder(directory).appendingPathComponent("\(name).cert.pem").path)[.posixPermissions] as? Int
            #expect(publicMode == 0o644, "\(name).cert.pem mode")
        }
    }

    @Test("no CA is made over a populated database, and a partial CA is never completed")
    func neverRecreates() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        #expect(throws: BizDirectError.internal("ca.missing", "")) { try open(directory, mayCreate: false) }
        #expect(!FileManager.default.fileExists(atPath: caFolder(directory).appendingPathComponent("issuing-ca.pem").path))
        _ = try open(directory)
        try FileManager.default.removeItem(at: caFolder(directory).appendingPathComponent("issuing-ca.pem"))
        #expect(throws: BizDirectError.internal("ca.incomplete", "")) { try open(directory) }
        let other = TemporaryDirectory(); defer { other.remove() }
        _ = try open(other)
        try FileManager.default.removeItem(at: caFolder(other).appendingPathComponent("tls-ca.pem"))
        #expect(throws: BizDirectError.internal("ca.tlsMissing", "")) { try open(other, mayCreate: false) }
    }

    @Test("a damaged key, or a key beside another key's certificate, stops start-up")
    func damagedOrMismatchedStops() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        _ = try open(directory)
        let ca = caFolder(directory)
        let issuing = try String(contentsOf: ca.appendingPathComponent("issuing-ca.pem"), encoding: .utf8)
        let ocsp = try String(contentsOf: ca.appendingPathComponent("ocsp-responder.pem"), encoding: .utf8)
        let certificatePart = issuing.components(separatedBy: "-----BEGIN PRIVATE KEY-----")[0]
        let ocspKeyPart = "-----BEGIN PRIVATE KEY-----" + ocsp.components(separatedBy: "-----BEGIN PRIVATE KEY-----")[1]
        try Data((certificatePart + ocspKeyPart).utf8).write(to: ca.appendingPathComponent("issuing-ca.pem"))
        #expect(throws: BizDirectError.internal("ca.keyMismatch", "")) { try open(directory) }
        try Data((certificatePart + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").utf8).write(to: ca.appendingPathComponent("issuing-ca.pem"))
        #expect(throws: BizDirectError.internal("ca.keyDamaged", "")) { try open(directory) }
    }

    @Test("with a passphrase every key and the root are encrypted; a wrong or missing passphrase refuses")
    func encryptedKeys() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let made = try open(directory, keyFile: KeyFile(passphrase: "correct horse", rounds: Self.rounds))
        let offline = CAHierarchy.offlineRootDirectory(caDirectory: caFolder(directory))
        for url in ["issuing-ca", "ocsp-responder", "tls-ca", "tls-server"].map({ caFolder(directory).appendingPathComponent("\($0).pem") })
            + [offline.appendingPathComponent("root-ca.pem")] {
            #expect(KeyFile.isEncrypted(url), "\(url.lastPathComponent)")
        }
        #expect(try open(directory, keyFile: KeyFile(passphrase: "correct horse", rounds: Self.rounds)).issuingFingerprint == made.issuingFingerprint)
        #expect(throws: BizDirectError.internal("ca.keyUndecryptable", "")) { try open(directory, keyFile: KeyFile(passphrase: "wrong", rounds: Self.rounds)) }
        #expect(throws: BizDirectError.internal("ca.passphraseMissing", "")) { try open(directory) }
    }

    @Test("host names outside the TLS CA's constraints stop start-up instead of widening it")
    func tlsNamesOutside() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        _ = try open(directory, hostNames: ["bank.example.jp"])
        #expect(throws: BizDirectError.internal("ca.tlsNamesOutside", "")) { try open(directory, hostNames: ["bank.example.jp", "evil.example"]) }
        #expect(throws: BizDirectError.internal("ca.tlsNamesOutside", "")) { try open(directory, hostNames: ["bank.example.jp", "192.0.2.1"]) }
        // A subdomain is inside the constraint: the server certificate is re-made, the TLS CA stays.
        let sub = try open(directory, hostNames: ["www.bank.example.jp"])
        #expect(sub.tlsCertificateChainPEM.count == 2)
    }

    @Test("the TLS CA's name constraints make a verifier refuse a certificate it signs for any other site")
    func tlsCAConstrained() async throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        _ = try open(directory, hostNames: ["bank.example.jp"])
        let (ca, key) = try IdentityFile.read(caFolder(directory), "tls-ca", keyFile: keyFile)
        let signer = try #require(key)
        func leaf(_ host: String) throws -> Certificate {
            let maker = LeafMaker(issuer: ca, signer: signer, bankName: "x", now: Date())
            let other = TemporaryDirectory(); defer { other.remove() }
            return try maker.renew(other.url, "leaf", keyFile: keyFile, hostNames: [host], lifetime: 86_400, tokenKey: nil).0
        }
        for (host, valid) in [("bank.example.jp", true), ("www.bank.example.jp", true), ("www.google.com", false), ("10.0.0.1", false)] {
            var verifier = Verifier(rootCertificates: CertificateStore([ca])) { RFC5280Policy(validationTime: Date()) }
            let result = await verifier.validate(leaf: try leaf(host), intermediates: CertificateStore())
            if case .validCertificate = result { #expect(valid, "\(host) accepted") } else { #expect(!valid, "\(host) refused") }
        }
    }

    @Test("key files are written through an owner-only temporary file and a rename; a crash's leftover is ignored")
    func atomicWrites() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let target = directory.url.appendingPathComponent("secret.bin")
        try KeyFile.writeOwnerOnly(Array("old".utf8), to: target)
        // A leftover from a crash mid-write, with the same temporary name, does not stop the next write.
        let leftover = directory.url.appendingPathComponent(".secret.bin.\(getpid()).tmp")
        try Data("half".utf8).write(to: leftover)
        try KeyFile.writeOwnerOnly(Array("new".utf8), to: target)
        #expect(try String(contentsOf: target, encoding: .utf8) == "new")
        #expect(!FileManager.default.fileExists(atPath: leftover.path))
        #expect(try FileManager.default.attributesOfItem(atPath: target.path)[.posixPermissions] as? Int == 0o600)
        // A write that cannot complete leaves the old file as it was.
        let readOnly = directory.url.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: true)
        try KeyFile.writeOwnerOnly(Array("kept".utf8), to: readOnly.appendingPathComponent("k"))
        chmod(readOnly.path, 0o500)
        defer { chmod(readOnly.path, 0o700) }
        if getuid() != 0 {   // root ignores the folder's mode
            #expect(throws: BizDirectError.internal("ca.writeFailed", "")) { try KeyFile.writeOwnerOnly(Array("lost".utf8), to: readOnly.appendingPathComponent("k")) }
            #expect(try String(contentsOf: readOnly.appendingPathComponent("k"), encoding: .utf8) == "kept")
        }
    }

    @Test("the OCSP responder is renewed while running, once a third of its life is left, key and certificate together")
    func responderRenews() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let start = Date()
        let ca = try open(directory, ocspLifetime: 3 * 3600, now: start)
        let first = ca.ocspResponder.certificate
        #expect(try ca.ocspResponder.renewIfDue(now: start.addingTimeInterval(3600)) == nil)
        let renewed = try #require(try ca.ocspResponder.renewIfDue(now: start.addingTimeInterval(2 * 3600 + 60)))
        #expect(renewed.serialNumber != first.serialNumber && renewed.publicKey != first.publicKey)
        #expect(renewed.notValidAfter > first.notValidAfter)
        #expect(ca.ocspResponder.certificate == renewed)
        let (stored, key) = try IdentityFile.read(caFolder(directory), "ocsp-responder", keyFile: keyFile)
        #expect(stored == renewed && key?.publicKey == renewed.publicKey)
        // Responses are signed by the new responder.
        #expect(ca.ocspResponder.responder(responseLifetime: 60).responderCertificate == renewed)
    }

    @Test("a ceremony: the root signs a new issuing-CA request; installation needs the waiting key and --rollover")
    func ceremony() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let first = try open(directory)
        let offline = CAHierarchy.offlineRootDirectory(caDirectory: caFolder(directory))
        // Renewal with the same key (the current key signs a request).
        let renewalRequest = try CACeremony.requestIssuing(caDirectory: caFolder(directory), bankName: "Test Shinkin Bank", generation: 1,
                                                           keyFile: keyFile, keys: .software, renewCurrent: true)
        let renewal = try CACeremony.signIssuing(rootDirectory: offline, request: Array(renewalRequest.utf8), keyFile: keyFile, keys: .software,
                                                 rootKeyLabel: "unused", now: Date())
        let renewed = try CACeremony.installIssuing(caDirectory: caFolder(directory), certificatePEM: renewal, keyFile: keyFile, keys: .software, allowRollover: false)
        #expect(!renewed.rollover)
        // A new key: refused without --rollover, installed with it.
        let request = try CACeremony.requestIssuing(caDirectory: caFolder(directory), bankName: "Test Shinkin Bank", generation: 2, keyFile: keyFile, keys: .software)
        let signed = try CACeremony.signIssuing(rootDirectory: offline, request: Array(request.utf8), keyFile: keyFile, keys: .software, rootKeyLabel: "unused", now: Date())
        #expect(throws: BizDirectError.internal("ca.rolloverRefused", "")) {
            try CACeremony.installIssuing(caDirectory: caFolder(directory), certificatePEM: signed, keyFile: keyFile, keys: .software, allowRollover: false)
        }
        #expect(try CACeremony.installIssuing(caDirectory: caFolder(directory), certificatePEM: signed, keyFile: keyFile, keys: .software, allowRollover: true).rollover)
        let after = try open(directory)
        #expect(after.issuing.publicKey != first.issuing.publicKey)
        #expect(after.ocspResponder.certificate.issuer == after.issuing.subject, "the responder is re-made under the new issuing CA")
        // A certificate from another root is refused.
        let stranger = TemporaryDirectory(); defer { stranger.remove() }
        _ = try open(stranger)
        let foreign = try CACeremony.signIssuing(rootDirectory: CAHierarchy.offlineRootDirectory(caDirectory: caFolder(stranger)),
                                                 request: Array(request.utf8), keyFile: keyFile, keys: .software, rootKeyLabel: "unused", now: Date())
        #expect(throws: BizDirectError.internal("ca.chainBroken", "")) {
            try CACeremony.installIssuing(caDirectory: caFolder(directory), certificatePEM: foreign, keyFile: keyFile, keys: .software, allowRollover: true)
        }
    }

    @Test("move-root copies, checks and removes; rekey re-encrypts every key and secret and can be run again")
    func moveAndRekey() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let old = KeyFile(passphrase: "old pass", rounds: Self.rounds), new = KeyFile(passphrase: "new pass", rounds: Self.rounds)
        let made = try open(directory, keyFile: old)
        try old.writeSecret(Array(repeating: 7, count: 32), to: caFolder(directory).appendingPathComponent("pin-pepper.bin"))
        let offline = CAHierarchy.offlineRootDirectory(caDirectory: caFolder(directory))
        let rewritten = try CACeremony.rekey(directories: [caFolder(directory), offline], from: old, to: new)
        #expect(Set(rewritten) == ["issuing-ca.pem", "ocsp-responder.pem", "tls-ca.pem", "tls-server.pem", "root-ca.pem", "pin-pepper.bin"])
        #expect(try CACeremony.rekey(directories: [caFolder(directory), offline], from: old, to: new).isEmpty, "a second run has nothing left to do")
        #expect(throws: BizDirectError.internal("ca.keyUndecryptable", "")) { try open(directory, keyFile: old) }
        #expect(try open(directory, keyFile: new).issuingFingerprint == made.issuingFingerprint)
        #expect(try new.readSecret(at: caFolder(directory).appendingPathComponent("pin-pepper.bin")) == Array(repeating: 7, count: 32))
        let media = directory.url.appendingPathComponent("media/root")
        try CACeremony.moveRoot(from: offline, to: media, keyFile: new)
        #expect(!FileManager.default.fileExists(atPath: offline.path))
        #expect(try RootCA.open(media, keyFile: new).certificate == made.root)
        #expect(try open(directory, keyFile: new).rootKeyOnHost == nil)
    }
}
