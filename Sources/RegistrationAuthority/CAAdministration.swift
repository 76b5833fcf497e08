import BizDirectCore
import CertificateAuthority
import Foundation
import Logging
import Storage

/// The operator's CA commands (`bizdirect ca …`): the ceremony steps of `CACeremony`, and for
/// those that change what the database is bound to, the new binding and its audit event in one
/// transaction. Servers pick up a new issuing CA or TLS CA when they are restarted.
public enum CAAdministration {
    /// Makes the root CA in `directory` (on the offline machine); returns its SHA-256 fingerprint.
    public static func createRoot(configuration: BizDirectConfiguration, in directory: URL, rootKeyLabel: String) throws -> String {
        let root = try CACeremony.createRoot(in: directory, bankName: configuration.bankName, keyFile: keyFile(configuration),
                                             keys: try CAKeys(configuration: configuration), tokenLabel: rootKeyLabel, now: Date())
        return CertificateFingerprint.sha256(CAHierarchy.der(root))
    }

    /// The PKCS#10 request of a new issuing-CA key, for the root ceremony.
    public static func requestIssuing(configuration: BizDirectConfiguration, generation: Int, renewCurrent: Bool = false) throws -> String {
        try CACeremony.requestIssuing(caDirectory: configuration.caDirectory, bankName: configuration.bankName, generation: generation,
                                      keyFile: keyFile(configuration), keys: try CAKeys(configuration: configuration), renewCurrent: renewCurrent)
    }

    /// At the ceremony: the root in `rootDirectory` signs `request`; returns the certificate PEM.
    public static func signIssuing(configuration: BizDirectConfiguration, rootDirectory: URL, request: [UInt8],
                                   rootKeyLabel: String) throws -> String {
        try CACeremony.signIssuing(rootDirectory: rootDirectory, request: request, keyFile: keyFile(configuration),
                                   keys: try CAKeys(configuration: configuration), rootKeyLabel: rootKeyLabel, now: Date())
    }

    /// Installs a signed issuing-CA certificate and re-binds the database to it (audited).
    /// Returns a line for the operator.
    public static func installIssuing(configuration: BizDirectConfiguration, certificatePEM: String, rollover: Bool, actor: String,
                                      logger: Logger) async throws -> String {
        let installed = try CACeremony.installIssuing(caDirectory: configuration.caDirectory, certificatePEM: certificatePEM,
                                                      keyFile: keyFile(configuration), keys: try CAKeys(configuration: configuration),
                                                      allowRollover: rollover)
        let fingerprint = CertificateFingerprint.sha256(CAHierarchy.der(installed.certificate))
        try await rebind(configuration, name: .issuingCA, fingerprint: fingerprint, actor: actor,
                         action: installed.rollover ? "ca.issuingRollover" : "ca.issuingRenew", logger: logger)
        return installed.rollover
            ? "New issuing CA installed (SHA-256 \(fingerprint)). Certificates of the old key no longer verify: revoke them and have every customer acquire again. Restart every instance."
            : "Issuing CA renewed with the same key (SHA-256 \(fingerprint)). Restart every instance."
    }

    /// Makes a new TLS CA for the configured host names and re-binds the database to it
    /// (audited); returns its fingerprint. Customers must trust the new CA.
    public static func newTLSCA(configuration: BizDirectConfiguration, actor: String, logger: Logger) async throws -> String {
        try CAHierarchy.makeTLSCA(configuration.caDirectory, hostNames: configuration.hostNames, bankName: configuration.bankName,
                                  keyFile: keyFile(configuration), now: Date())
        let ca = try CAHierarchy.readCertificate(configuration.caDirectory.appendingPathComponent("tls-ca.cert.pem"))
        let fingerprint = CertificateFingerprint.sha256(CAHierarchy.der(ca))
        try await rebind(configuration, name: .tlsCA, fingerprint: fingerprint, actor: actor, action: "ca.tlsCAReplace", logger: logger)
        return fingerprint
    }

    /// Moves the newcomer's root key off this host to `destination`.
    public static func moveRoot(configuration: BizDirectConfiguration, to destination: URL) throws {
        try CACeremony.moveRoot(from: CAHierarchy.offlineRootDirectory(caDirectory: configuration.caDirectory), to: destination,
                                keyFile: keyFile(configuration))
    }

    /// Re-encrypts every key and secret file under `newPassphrase` (nil: unencrypted); audited.
    public static func rekeyPassphrase(configuration: BizDirectConfiguration, newPassphrase: String?, actor: String,
                                       logger: Logger) async throws -> [String] {
        let folders = [configuration.caDirectory, CAHierarchy.offlineRootDirectory(caDirectory: configuration.caDirectory)]
        let rewritten = try CACeremony.rekey(directories: folders, from: keyFile(configuration), to: KeyFile(passphrase: newPassphrase, rounds: configuration.keyDerivationRounds))
        try await withStore(configuration, logger: logger) { store in
            try await store.appendAudit(AuditEvent(actor: actor, action: "ca.rekeyPassphrase", target: "\(rewritten.count) files",
                                                   outcome: .allowed), at: Date())
        }
        return rewritten
    }

    private static func rebind(_ configuration: BizDirectConfiguration, name: KeyBinding.Name, fingerprint: String, actor: String,
                               action: String, logger: Logger) async throws {
        try await withStore(configuration, logger: logger) { store in
            let now = Date()
            try await store.transaction { tx in
                try await tx.recordKey(name.rawValue, fingerprint: fingerprint, at: now)
                try await tx.appendAudit(AuditEvent(actor: actor, action: action, target: fingerprint, outcome: .allowed), at: now)
            }
        }
    }

    /// Opens the database for one change, and always closes it again.
    private static func withStore(_ configuration: BizDirectConfiguration, logger: Logger, _ work: (Store) async throws -> Void) async throws {
        let database = try await StorageDatabase.open(url: configuration.effectiveDatabaseURL, logger: logger)
        do {
            try await work(database.store)
        } catch {
            await database.shutdown()
            throw error
        }
        await database.shutdown()
    }

    private static func keyFile(_ configuration: BizDirectConfiguration) -> KeyFile { KeyFile(passphrase: configuration.keyPassphrase, rounds: configuration.keyDerivationRounds) }
}
