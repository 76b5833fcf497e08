import BizDirectCore
import Foundation
import RegistrationAuthority
import Testing
import TestSupport

/// `bizdirect ca …` and several instances on one database, run as an operator would.
@Suite("CA commands and instances")
struct CACommandTests {
    static func common(_ directory: URL, _ databaseURL: String) -> [String] {
        // 10,000 PBKDF2 rounds per key file: the default 600,000 would only cost time.
        ["--data", directory.path, "--database-url", databaseURL, "--scrypt-log-n", "10", "--key-derivation-rounds", "10000"]
    }

    @Test("a newcomer start warns that the root key is on the host until `ca move-root`; `ca show` says where every key is; `ca rekey-passphrase` re-encrypts",
          .enabled(if: ServerProcess.available, "needs the bizdirect executable (swift build makes it)"))
    func newcomerRootMoved() async throws {
        let directory = TemporaryDirectory("ca-cli"); defer { directory.remove() }
        let databaseURL = try await TestDatabase.url(in: directory.url)
        let data = directory.url.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let old = ["BIZDIRECT_KEY_PASSPHRASE": "first passphrase"]
        let first = try await ServerProcess.start(directory: data, databaseURL: databaseURL, extra: ["--scrypt-log-n", "10", "--key-derivation-rounds", "10000"], environment: old)
        await first.stop(signal: SIGTERM)
        #expect(first.output.contains("WARNING: the root CA's private key is still on this host"), "\(first.output)")
        #expect(first.output.contains("TLS CA SHA-256 fingerprint"))
        let media = directory.url.appendingPathComponent("offline-media/root")
        let moved = try await ServerProcess.command(["ca", "move-root", "--to", media.path] + Self.common(data, databaseURL), environment: old)
        #expect(moved.status == 0 && moved.output.contains("no longer on this host"), "\(moved.output)")
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("root-ca-offline").path))
        let shown = try await ServerProcess.command(["ca", "show"] + Self.common(data, databaseURL), environment: old)
        #expect(shown.status == 0 && shown.output.contains("not on this host") && shown.output.contains("encrypted under the key passphrase"), "\(shown.output)")
        // A new passphrase: the old one no longer opens anything, the new one does.
        var rekey = old
        rekey["BIZDIRECT_NEW_KEY_PASSPHRASE"] = "second passphrase"
        let rekeyed = try await ServerProcess.command(["ca", "rekey-passphrase"] + Self.common(data, databaseURL), environment: rekey)
        #expect(rekeyed.status == 0 && rekeyed.output.contains("pin-pepper.bin") && rekeyed.output.contains("card-key.bin"), "\(rekeyed.output)")
        let refused = try await ServerProcess.command(["ca", "show"] + Self.common(data, databaseURL), environment: old)
        #expect(refused.status != 0 && !refused.output.contains("first passphrase"), "\(refused.output)")
        let again = try await ServerProcess.start(directory: data, databaseURL: databaseURL, extra: ["--scrypt-log-n", "10", "--key-derivation-rounds", "10000"],
                                                  environment: ["BIZDIRECT_KEY_PASSPHRASE": "second passphrase"])
        await again.stop(signal: SIGTERM)
        #expect(!again.output.contains("WARNING: the root CA's private key"), "\(again.output)")
    }

    @Test("the production ceremony by command: an offline root signs the issuing CA; instances sharing the CA folder serve one database, one with another CA refuses naming both fingerprints",
          .enabled(if: ServerProcess.available && ExternalTool.available("openssl"), "needs the bizdirect executable and openssl"))
    func ceremonyAndInstances() async throws {
        let openssl = try #require(ExternalTool.find("openssl"))
        let directory = TemporaryDirectory("ceremony"); defer { directory.remove() }
        let databaseURL = try await TestDatabase.url(in: directory.url)
        let data = directory.url.appendingPathComponent("server"), offline = directory.url.appendingPathComponent("offline-root")
        // No passphrase here: PBKDF2 at 600,000 rounds per key file in every process would only
        // slow the suite (newcomerRootMoved covers the passphrase).
        let env: [String: String] = [:]
        func run(_ arguments: [String]) async throws -> String {
            let result = try await ServerProcess.command(arguments, environment: env)
            #expect(result.status == 0, "\(arguments.prefix(2)): \(result.output)")
            return result.output
        }
        let created = try await run(["ca", "create-root", "--out", offline.path] + Self.common(data, databaseURL))
        #expect(created.contains("SHA-256 fingerprint"))
        let ca = data.appendingPathComponent("ca")
        try FileManager.default.createDirectory(at: ca, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.url.appendingPathComponent("stranger"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: offline.appendingPathComponent("root-ca.cert.pem"), to: ca.appendingPathComponent("root-ca.cert.pem"))
        let request = directory.url.appendingPathComponent("issuing.csr.pem").path, certificate = directory.url.appendingPathComponent("issuing.cert.pem").path
        _ = try await run(["ca", "request-issuing", "--out", request, "--generation", "1"] + Self.common(data, databaseURL))
        _ = try await run(["ca", "sign-issuing", "--root", offline.path, "--request", request, "--out", certificate] + Self.common(data, databaseURL))
        _ = try await run(["ca", "install-issuing", "--certificate", certificate] + Self.common(data, databaseURL))
        let verify = try await ExternalTool.run(openssl, ["verify", "-CAfile", offline.appendingPathComponent("root-ca.cert.pem").path, certificate])
        #expect(verify.status == 0, "\(verify.output)")

        let first = try await ServerProcess.start(directory: data, databaseURL: databaseURL, extra: ["--scrypt-log-n", "10", "--key-derivation-rounds", "10000"], environment: env)
        defer { first.kill() }
        #expect(!first.output.contains("WARNING: the root CA's private key"), "the production root was never on this host")
        // A second instance with a copy of the same CA folder serves the same database beside it.
        let twin = directory.url.appendingPathComponent("twin")
        try FileManager.default.createDirectory(at: twin, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: ca, to: twin.appendingPathComponent("ca"))
        let second = try await ServerProcess.start(directory: twin, databaseURL: databaseURL, extra: ["--scrypt-log-n", "10", "--key-derivation-rounds", "10000"], environment: env)
        await second.stop(signal: SIGTERM)
        // A third with a CA of its own is refused while the others serve.
        let stranger = directory.url.appendingPathComponent("stranger")
        let own = try await ServerProcess.command(["init"] + Self.common(stranger, "sqlite://" + stranger.appendingPathComponent("own.sqlite").path))
        #expect(own.status == 0, "\(own.output)")
        let refused = try await ServerProcess.startExpectingRefusal(directory: stranger, databaseURL: databaseURL, extra: ["--scrypt-log-n", "10", "--key-derivation-rounds", "10000"])
        #expect(refused.status != 0 && refused.output.contains("is not the one this database was made with"), "\(refused.output)")
        let shown = try await run(["ca", "show"] + Self.common(data, databaseURL))
        let boundFingerprint = shown.split(separator: "\n").first { $0.hasPrefix("Issuing CA:") }.map { String($0.dropFirst("Issuing CA:".count)).trimmingCharacters(in: .whitespaces) }
        let fingerprint = try #require(boundFingerprint?.split(separator: " ").first.map(String.init))
        #expect(refused.output.contains(fingerprint), "names the bound issuing CA: \(refused.output)")
        await first.stop(signal: SIGTERM)
    }
}
