import BizDirectCore
import CertificateAuthority
import Foundation
import RegistrationAuthority
import Storage
import Testing
import TestSupport

/// The database bound to its CA and secrets, secrets encrypted at rest, and CA keys in a
/// PKCS#11 token (SoftHSM2), on SQLite and (with BIZDIRECT_TEST_POSTGRES_URL) PostgreSQL.
@Suite("Key custody: bindings, secrets at rest, PKCS#11")
struct KeyCustodyTests {
    static func configuration(_ directory: TemporaryDirectory, databaseURL: String, pkcs11: PKCS11Settings? = nil,
                              passphrase: String? = nil) -> BizDirectConfiguration {
        var configuration = BizDirectConfiguration(dataDirectory: directory.url)
        configuration.databaseURL = databaseURL
        configuration.scryptLogN = 10
        configuration.pkcs11 = pkcs11
        configuration.keyPassphrase = passphrase
        configuration.keyDerivationRounds = 10_000       // the default 600,000 would only cost time
        return configuration
    }

    /// The refusal `RegistrationAuthority.open` throws for `configuration`, or nil when it opened.
    static func refusal(_ configuration: BizDirectConfiguration) async -> BizDirectError? {
        do {
            let ra = try await RegistrationAuthority.open(configuration: configuration, logger: TestDatabase.logger)
            await ra.shutdown()
            return nil
        } catch let error as BizDirectError {
            return error
        } catch {
            return .internal("test.unexpected", "\(error)")
        }
    }

    @Test("a start whose CA is not the database's refuses, naming both fingerprints")
    func otherCARefused() async throws {
        let shared = TemporaryDirectory(), other = TemporaryDirectory(); defer { shared.remove(); other.remove() }
        let databaseURL = try await TestDatabase.url(in: shared.url)
        let first = try await RegistrationAuthority.open(configuration: Self.configuration(shared, databaseURL: databaseURL), logger: TestDatabase.logger)
        let ownFingerprint = first.tlsMaterial.rootFingerprint
        _ = try await first.enrolStaff()
        await first.shutdown()
        // Another installation's CA, made against its own database, then pointed at the shared one.
        let stranger = try await RegistrationAuthority.open(configuration: Self.configuration(other, databaseURL: try await TestDatabase.url(in: other.url)),
                                                            logger: TestDatabase.logger)
        await stranger.shutdown()
        let refusal = try #require(await Self.refusal(Self.configuration(other, databaseURL: databaseURL)))
        #expect(refusal.reason == "ca.mismatch")
        let presented = try CAHierarchy.open(directory: other.url.appendingPathComponent("ca"), tls: .external,
                                             bankName: "x", keyFile: KeyFile(passphrase: nil), now: Date(), mayCreate: false)
        let bound = try CAHierarchy.open(directory: shared.url.appendingPathComponent("ca"), tls: .external,
                                         bankName: "x", keyFile: KeyFile(passphrase: nil), now: Date(), mayCreate: false)
        #expect(refusal.detail.contains(presented.issuingFingerprint) && refusal.detail.contains(bound.issuingFingerprint), "\(refusal.detail)")
        #expect(bound.rootFingerprint == ownFingerprint)
        // The shared database still opens with its own CA and goes on issuing.
        let again = try await RegistrationAuthority.open(configuration: Self.configuration(shared, databaseURL: databaseURL), logger: TestDatabase.logger)
        _ = try await again.enrolStaff(name: "After the refusal")
        await again.shutdown()
    }

    @Test("with the CA folder or a secret gone, a populated database refuses and nothing new is made")
    func nothingMadeOverPopulated() async throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let databaseURL = try await TestDatabase.url(in: directory.url)
        let ra = try await RegistrationAuthority.open(configuration: Self.configuration(directory, databaseURL: databaseURL), logger: TestDatabase.logger)
        _ = try await ra.enrolStaff()
        await ra.shutdown()
        let ca = directory.url.appendingPathComponent("ca")
        let pepper = try Data(contentsOf: ca.appendingPathComponent("pin-pepper.bin"))
        try FileManager.default.removeItem(at: ca.appendingPathComponent("pin-pepper.bin"))
        #expect(await Self.refusal(Self.configuration(directory, databaseURL: databaseURL))?.reason == "ca.secretMissing")
        #expect(!FileManager.default.fileExists(atPath: ca.appendingPathComponent("pin-pepper.bin").path))
        // A different pepper (a restore from the wrong backup) is refused too, before any PIN is checked.
        try KeyFile(passphrase: nil).writeSecret(Array(repeating: 9, count: 32), to: ca.appendingPathComponent("pin-pepper.bin"))
        #expect(await Self.refusal(Self.configuration(directory, databaseURL: databaseURL))?.reason == "ca.mismatch")
        try pepper.write(to: ca.appendingPathComponent("pin-pepper.bin"))
        try FileManager.default.moveItem(at: ca, to: directory.url.appendingPathComponent("ca-moved"))
        #expect(await Self.refusal(Self.configuration(directory, databaseURL: databaseURL))?.reason == "ca.missing")
        #expect(!FileManager.default.fileExists(atPath: ca.appendingPathComponent("issuing-ca.pem").path))
        try? FileManager.default.removeItem(at: ca)
        try FileManager.default.moveItem(at: directory.url.appendingPathComponent("ca-moved"), to: ca)
        #expect(await Self.refusal(Self.configuration(directory, databaseURL: databaseURL)) == nil)
    }

    @Test("two installations binding one new database at once: exactly one binds, the other refuses")
    func concurrentBinding() async throws {
        let shared = TemporaryDirectory(), a = TemporaryDirectory(), b = TemporaryDirectory()
        defer { shared.remove(); a.remove(); b.remove() }
        let databaseURL = try await TestDatabase.url(in: shared.url)
        // Each installation has its CA already (made against a database of its own), so that both
        // reach the binding; and the shared database is migrated, so that the race is the binding's.
        for own in [a, b] {
            #expect(await Self.refusal(Self.configuration(own, databaseURL: "sqlite://" + own.url.appendingPathComponent("own.sqlite").path)) == nil)
        }
        let migrated = try await StorageDatabase.open(url: databaseURL, logger: TestDatabase.logger)
        await migrated.shutdown()
        async let first = Self.refusal(Self.configuration(a, databaseURL: databaseURL))
        async let second = Self.refusal(Self.configuration(b, databaseURL: databaseURL))
        let outcomes = await [first, second]
        #expect(outcomes.filter { $0 == nil }.count == 1, "\(outcomes)")
        #expect(outcomes.compactMap { $0?.reason } == ["ca.mismatch"], "\(outcomes)")
    }

    @Test("with a passphrase the PIN pepper and card key are encrypted at rest and need it to open")
    func secretsEncrypted() async throws {
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let databaseURL = try await TestDatabase.url(in: directory.url)
        let configuration = Self.configuration(directory, databaseURL: databaseURL, passphrase: "a long passphrase")
        let ra = try await RegistrationAuthority.open(configuration: configuration, logger: TestDatabase.logger)
        await ra.shutdown()
        for name in ["pin-pepper.bin", "card-key.bin"] {
            let url = directory.url.appendingPathComponent("ca/\(name)")
            #expect(try String(contentsOf: url, encoding: .utf8).hasPrefix("-----BEGIN ENCRYPTED BIZDIRECT SECRET-----"), "\(name)")
            #expect(try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int == 0o600)
        }
        #expect(await Self.refusal(Self.configuration(directory, databaseURL: databaseURL))?.reason == "ca.passphraseMissing")
        #expect(await Self.refusal(configuration) == nil)
    }

    // MARK: PKCS#11 (SoftHSM2)

    @Test("with the keys in a SoftHSM token: issuance, the CRL and OCSP verify with openssl, and no key is on disk",
          .enabled(if: SoftHSM.available && ExternalTool.available("openssl"), "needs softhsm2, opensc and openssl (CI installs them)"))
    func tokenSigns() async throws {
        let openssl = try #require(ExternalTool.find("openssl"))
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let settings = try await SoftHSM.settings()
        let ra = try await RegistrationAuthority.open(configuration: Self.configuration(directory, databaseURL: try await TestDatabase.url(in: directory.url),
                                                                                         pkcs11: settings), logger: TestDatabase.logger)
        let good = try await ra.enrolStaff(name: "Good")
        let revoked = try await ra.enrolStaff(name: "Revoked")
        _ = try await ra.certificates.revoke(serial: revoked.serial, reason: .keyCompromise, actor: "test")
        let crl = try await ra.certificates.currentCRL()
        let ca = directory.url.appendingPathComponent("ca")
        for name in ["issuing-ca.pem", "ocsp-responder.pem"] {
            #expect(try !String(contentsOf: ca.appendingPathComponent(name), encoding: .utf8).contains("PRIVATE KEY"), "\(name) holds no key")
        }
        let work = TemporaryDirectory("hsm"); defer { work.remove() }
        func path(_ name: String) -> String { work.url.appendingPathComponent(name).path }
        let root = try String(contentsOf: ca.appendingPathComponent("root-ca.cert.pem"), encoding: .utf8)
        let issuing = try String(contentsOf: ca.appendingPathComponent("issuing-ca.cert.pem"), encoding: .utf8)
        try Data((root + issuing).utf8).write(to: work.url.appendingPathComponent("chain.pem"))
        try Data(issuing.utf8).write(to: work.url.appendingPathComponent("issuing.pem"))
        try Data(good.certificatePEM.utf8).write(to: work.url.appendingPathComponent("good.pem"))
        try Data(revoked.certificatePEM.utf8).write(to: work.url.appendingPathComponent("revoked.pem"))
        try Data(crl).write(to: work.url.appendingPathComponent("crl.der"))
        let verify = try await ExternalTool.run(openssl, ["verify", "-purpose", "sslclient", "-CAfile", path("chain.pem"), path("good.pem")])
        #expect(verify.status == 0, "\(verify.output)")
        let crlCheck = try await ExternalTool.run(openssl, ["crl", "-inform", "DER", "-in", path("crl.der"), "-CAfile", path("issuing.pem"), "-noout", "-verify"])
        #expect(crlCheck.output.contains("verify OK"), "\(crlCheck.output)")
        for (certificate, expected) in [("good.pem", ": good"), ("revoked.pem", ": revoked")] {
            _ = try await ExternalTool.run(openssl, ["ocsp", "-issuer", path("issuing.pem"), "-cert", path(certificate), "-reqout", path("req.der"), "-no_nonce"])
            let request = try [UInt8](Data(contentsOf: work.url.appendingPathComponent("req.der")))
            try Data(await ra.certificates.respondOCSP(request)).write(to: work.url.appendingPathComponent("resp.der"))
            let answer = try await ExternalTool.run(openssl, ["ocsp", "-respin", path("resp.der"), "-issuer", path("issuing.pem"), "-CAfile", path("chain.pem"),
                                                             "-cert", path(certificate), "-no_nonce"])
            #expect(answer.output.contains("Response verify OK") && answer.output.contains(expected), "\(certificate): \(answer.output)")
        }
        await ra.shutdown()
        // The token's key is bound: the same folder opens again with the token.
        #expect(await Self.refusal(Self.configuration(directory, databaseURL: try await TestDatabase.url(in: directory.url), pkcs11: settings)) == nil)
    }

    @Test("a missing key label, token or module stops start-up with a message that says which",
          .enabled(if: SoftHSM.available, "needs softhsm2 and opensc (CI installs them)"))
    func tokenRefusals() async throws {
        let settings = try await SoftHSM.settings()
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let databaseURL = try await TestDatabase.url(in: directory.url)
        var missingKey = settings
        missingKey.issuingKeyLabel = "no-such-key"
        let keyRefusal = try #require(await Self.refusal(Self.configuration(directory, databaseURL: databaseURL, pkcs11: missingKey)))
        #expect(keyRefusal.reason == "pkcs11.keyMissing" && keyRefusal.detail.contains("no-such-key"), "\(keyRefusal.detail)")
        var missingToken = settings
        missingToken.tokenLabel = "no-such-token"
        #expect(await Self.refusal(Self.configuration(directory, databaseURL: databaseURL, pkcs11: missingToken))?.reason == "pkcs11.tokenMissing")
        var missingModule = settings
        missingModule.modulePath = "/nonexistent/libpkcs11.so"
        #expect(await Self.refusal(Self.configuration(directory, databaseURL: databaseURL, pkcs11: missingModule))?.reason == "pkcs11.module")
        // Nothing was made by the refused starts.
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("ca/issuing-ca.pem").path))
    }

    @Test("bizdirect serve with a wrong token PIN ends at start-up with one line that says so, and never prints the PIN",
          .enabled(if: SoftHSM.available && ServerProcess.available, "needs softhsm2, opensc and the bizdirect executable"))
    func wrongPINAtStart() async throws {
        // In its own process: a PKCS#11 module is logged in once per process, and SoftHSM answers
        // "already logged in" to any PIN once another test of this process has logged in.
        let settings = try await SoftHSM.settings()
        let directory = TemporaryDirectory(); defer { directory.remove() }
        let databaseURL = try await TestDatabase.url(in: directory.url)
        var environment = SoftHSM.environment
        environment["BIZDIRECT_PKCS11_PIN"] = "0000-wrong"
        let result = try await ServerProcess.startExpectingRefusal(
            directory: directory.url, databaseURL: databaseURL,
            extra: ["--pkcs11-module", settings.modulePath, "--pkcs11-token", settings.tokenLabel], environment: environment)
        #expect(result.status != 0)
        #expect(result.output.contains("The PIN for the PKCS#11 token \"\(settings.tokenLabel)\" is wrong"), "\(result.output)")
        #expect(!result.output.contains("0000-wrong"))
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("ca/issuing-ca.pem").path))
        // The right PIN from a file starts it.
        let pinFile = directory.url.appendingPathComponent("pin")
        try Data((settings.pin + "\n").utf8).write(to: pinFile)
        let server = try await ServerProcess.start(directory: directory.url, databaseURL: databaseURL,
                                                   extra: ["--pkcs11-module", settings.modulePath, "--pkcs11-token", settings.tokenLabel,
                                                           "--pkcs11-pin-file", pinFile.path], environment: SoftHSM.environment)
        await server.stop(signal: SIGTERM)
        #expect(try !String(contentsOf: directory.url.appendingPathComponent("ca/issuing-ca.pem"), encoding: .utf8).contains("PRIVATE KEY"))
    }

    @Test("the root ceremony with the root key in the token: a P-384 root signs an issuing-CA request that openssl accepts",
          .enabled(if: SoftHSM.available && ExternalTool.available("openssl"), "needs softhsm2, opensc and openssl (CI installs them)"))
    func tokenRoot() async throws {
        let openssl = try #require(ExternalTool.find("openssl"))
        let settings = try await SoftHSM.settings()
        let directory = TemporaryDirectory(); defer { directory.remove() }
        var configuration = Self.configuration(directory, databaseURL: try await TestDatabase.url(in: directory.url), pkcs11: settings)
        configuration.pkcs11?.issuingKeyLabel = SoftHSM.otherIssuingLabel
        let media = directory.url.appendingPathComponent("offline-root")
        let fingerprint = try CAAdministration.createRoot(configuration: configuration, in: media, rootKeyLabel: SoftHSM.rootLabel)
        #expect(try !String(contentsOf: media.appendingPathComponent("root-ca.pem"), encoding: .utf8).contains("PRIVATE KEY"))
        let request = try CAAdministration.requestIssuing(configuration: configuration, generation: 2)
        let certificate = try CAAdministration.signIssuing(configuration: configuration, rootDirectory: media, request: Array(request.utf8),
                                                           rootKeyLabel: SoftHSM.rootLabel)
        try Data(certificate.utf8).write(to: directory.url.appendingPathComponent("issuing.pem"))
        let check = try await ExternalTool.run(openssl, ["verify", "-CAfile", media.appendingPathComponent("root-ca.cert.pem").path,
                                                         directory.url.appendingPathComponent("issuing.pem").path])
        #expect(check.status == 0, "\(check.output)")
        let text = try await ExternalTool.run(openssl, ["x509", "-in", media.appendingPathComponent("root-ca.cert.pem").path, "-noout", "-text", "-fingerprint", "-sha256"])
        #expect(text.output.contains("secp384r1") || text.output.contains("P-384"), "\(text.output)")
        #expect(text.output.contains(fingerprint), "\(text.output)")
    }
}
