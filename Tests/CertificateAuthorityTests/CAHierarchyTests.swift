import BizDirectCore
import CertificateAuthority
import Foundation
import Testing
import TestSupport
import X509

@Suite("CAHierarchy")
struct CAHierarchyTests {
    let keyFile = KeyFile(passphrase: nil)

    func open(_ directory: TemporaryDirectory, keyFile: KeyFile? = nil) throws -> CAHierarchy {
        try CAHierarchy.openOrCreate(directory: directory.url.appendingPathComponent("ca"), hostNames: ["localhost", "127.0.0.1", "::1"],
                                     bankName: "Test Shinkin Bank", keyFile: keyFile ?? self.keyFile, now: Date())
    }

    @Test("first start makes a P-384 root, a pathLen-0 P-256 issuing CA, an OCSP responder and a TLS certificate")
    func makesTheHierarchy() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let ca = try open(directory)
        #expect(ca.created)
        #expect(ca.root.signatureAlgorithm == .ecdsaWithSHA384)
        #expect(ca.root.notValidAfter.timeIntervalSince(ca.root.notValidBefore) > 19.9 * 365 * 86_400)
        let issuingConstraints = try #require(try ca.issuing.extensions.basicConstraints)
        #expect(issuingConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(ca.issuing.notValidAfter.timeIntervalSince(ca.issuing.notValidBefore) > 9.9 * 365 * 86_400)
        #expect(try ca.ocspResponder.extensions.extendedKeyUsage?.contains(.ocspSigning) == true)
        #expect(ca.ocspResponder.extensions[oid: [1, 3, 6, 1, 5, 5, 7, 48, 1, 5]] != nil)
        let tls = try Certificate(pemEncoded: ca.tlsCertificateChainPEM[0])
        let names = try #require(try tls.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("localhost")))
        #expect(names.count == 3)
    }

    @Test("keys are written owner-only and a second start reuses them")
    func reusesKeys() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let first = try open(directory)
        let second = try open(directory)
        #expect(!second.created)
        #expect(first.rootFingerprint == second.rootFingerprint)
        for name in ["root-ca", "issuing-ca", "ocsp-responder", "tls-server"] {
            let path = directory.url.appendingPathComponent("ca/\(name).key.pem").path
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(name) key mode")
        }
    }

    @Test("a missing CA key stops start-up instead of re-creating the CA")
    func missingKeyStops() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        _ = try open(directory)
        try FileManager.default.removeItem(at: directory.url.appendingPathComponent("ca/issuing-ca.key.pem"))
        #expect(throws: BizDirectError.internal("ca.incomplete", "")) { try open(directory) }
    }

    @Test("a damaged CA key stops start-up")
    func damagedKeyStops() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        _ = try open(directory)
        try Data("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8)
            .write(to: directory.url.appendingPathComponent("ca/root-ca.key.pem"))
        #expect(throws: BizDirectError.internal("ca.keyDamaged", "")) { try open(directory) }
    }

    @Test("a key that does not match its certificate stops start-up")
    func mismatchedKeyStops() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        _ = try open(directory)
        let ca = directory.url.appendingPathComponent("ca")
        try FileManager.default.removeItem(at: ca.appendingPathComponent("issuing-ca.key.pem"))
        try FileManager.default.copyItem(at: ca.appendingPathComponent("ocsp-responder.key.pem"), to: ca.appendingPathComponent("issuing-ca.key.pem"))
        #expect(throws: BizDirectError.internal("ca.keyMismatch", "")) { try open(directory) }
    }

    @Test("keys encrypted with a passphrase open with it and refuse a wrong one")
    func encryptedKeys() throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let made = try open(directory, keyFile: KeyFile(passphrase: "correct horse"))
        let text = try String(contentsOf: directory.url.appendingPathComponent("ca/root-ca.key.pem"), encoding: .utf8)
        #expect(text.contains("ENCRYPTED PRIVATE KEY"))
        #expect(try open(directory, keyFile: KeyFile(passphrase: "correct horse")).rootFingerprint == made.rootFingerprint)
        #expect(throws: BizDirectError.internal("ca.keyUndecryptable", "")) { try open(directory, keyFile: KeyFile(passphrase: "wrong")) }
        #expect(throws: BizDirectError.internal("ca.passphraseMissing", "")) { try open(directory) }
    }
}
