import BizDirectCore
import CertificateAuthority
import Crypto
import Foundation
import Logging
import Storage
import X509

/// The registration authority: every workflow the web front end and the command line use.
///
/// `open` is the RA half of the composition root: it opens (or makes) the CA in the data
/// folder, opens the database, and wires the services. Nothing above the RA sees a key or a
/// database handle.
public final class RegistrationAuthority: Sendable {
    /// Issuance, revocation, CRL, OCSP.
    public let certificates: CertificateService
    /// Certificate and PIN steps of logon.
    public let logon: LogonService
    /// Web sessions.
    public let sessions: SessionService
    /// The logon state machine: the only way a logon session is made or advanced.
    public let logonFlow: LogonFlow
    /// Bank staff.
    public let staff: StaffService
    /// The branch's workflows.
    public let branch: BranchService
    /// Certificate acquisition in the browser.
    public let acquisition: AcquisitionService
    /// Customer-card challenges.
    public let cards: CardService
    /// The administrator's work on users.
    public let administrators: AdministratorService
    /// What the TLS listeners need.
    public let tlsMaterial: TLSMaterial
    /// The configuration in force.
    public let configuration: BizDirectConfiguration
    /// The clock everything uses.
    public let clock: any WallClock
    let database: StorageDatabase

    /// TLS certificates and the CA certificates offered for download.
    public struct TLSMaterial: Sendable {
        /// Server chain, PEM, leaf first.
        public let serverChainPEM: [String]
        /// Server key, PEM.
        public let serverKeyPEM: String
        /// Issuing CA (client certificates), PEM: trusted and named on the logon listener.
        public let issuingCAPEM: String
        /// Root CA, PEM.
        public let rootCAPEM: String
        /// Root CA, DER.
        public let rootCADER: [UInt8]
        /// Issuing CA, DER.
        public let issuingCADER: [UInt8]
        /// SHA-256 fingerprint of the root CA.
        public let rootFingerprint: String
        /// The name-constrained TLS CA customers trust for this service's host names, PEM; nil
        /// with an external TLS certificate.
        public let tlsCAPEM: String?
        /// The TLS CA, DER.
        public let tlsCADER: [UInt8]?
        /// SHA-256 fingerprint of the TLS CA.
        public let tlsCAFingerprint: String?
        /// True when this start made the CA.
        public let caCreated: Bool
        /// Where the root CA's key still sits on this host (a newcomer start), or nil.
        public let rootKeyOnHost: String?
    }

    /// Opens the database and the CA for `configuration` and builds the services.
    ///
    /// The database is bound to the CA and the secrets it was first opened with (`KeyBinding`):
    /// a start whose issuing CA, TLS CA, PIN pepper or card key differs from the recorded one
    /// refuses and names both fingerprints, and nothing is ever made over a populated database.
    public static func open(configuration: BizDirectConfiguration, logger: Logger, clock: any WallClock = SystemClock(),
                            random: any RandomSource = SystemRandom()) async throws -> RegistrationAuthority {
        try configuration.validate()
        let database = try await StorageDatabase.open(url: configuration.effectiveDatabaseURL, logger: logger)
        do {
            let keyFile = KeyFile(passphrase: configuration.keyPassphrase, rounds: configuration.keyDerivationRounds)
            // Nothing is made that data in the database already depends on: the CA and the secrets
            // only for a database without certificates, holders or a binding of them; the TLS CA
            // (nothing stored depends on it) whenever none is bound yet.
            let bindings = try await database.store.keyBindings()
            let fresh = try await !database.store.holdsIssuedData()
            func mayCreate(_ name: KeyBinding.Name) -> Bool { fresh && bindings[name.rawValue] == nil }
            let keys = try CAKeys(configuration: configuration)
            let hierarchy = try CAHierarchy.open(directory: configuration.caDirectory,
                                                 tls: configuration.tlsCertificatePath == nil ? .embedded(hostNames: configuration.hostNames) : .external,
                                                 bankName: configuration.bankName, keyFile: keyFile, keys: keys,
                                                 ocspLifetime: configuration.ocspResponderLifetime, now: clock.now(),
                                                 mayCreate: mayCreate(.issuingCA), mayCreateTLSCA: bindings[KeyBinding.Name.tlsCA.rawValue] == nil)
            let pepper = try SecretFile.pepper.loadOrCreate(configuration.caDirectory, keyFile: keyFile, mayCreate: mayCreate(.pepper), random: random)
            let cardKey = try SecretFile.cardKey.loadOrCreate(configuration.caDirectory, keyFile: keyFile, mayCreate: mayCreate(.cardKey), random: random)
            try await KeyBinding.check(hierarchy: hierarchy, pepper: pepper, cardKey: cardKey, store: database.store, at: clock.now())
            return try RegistrationAuthority(configuration: configuration, hierarchy: hierarchy, pepper: pepper,
                                             vault: CardVault(key: SymmetricKey(data: cardKey)), database: database,
                                             logger: logger, clock: clock, random: random)
        } catch {
            await database.shutdown()
            throw error
        }
    }

    private init(configuration: BizDirectConfiguration, hierarchy: CAHierarchy, pepper: [UInt8], vault: CardVault, database: StorageDatabase,
                 logger: Logger, clock: any WallClock, random: any RandomSource) throws {
        self.configuration = configuration
        self.clock = clock
        self.database = database
        let store = database.store
        let profile = IssuanceProfile(
            validity: .init(clientCertificate: configuration.certificateLifetime, crl: configuration.crlLifetime),
            publicationBaseURL: configuration.publicationBaseURL, bankName: configuration.bankName)
        let hasher = PINHasher(pepper: pepper, logN: configuration.scryptLogN, random: random,
                               gate: HashGate(capacity: configuration.pinHashCapacity, anonymousShare: configuration.anonymousPINHashShare))
        certificates = CertificateService(
            store: store,
            issuer: try CertificateIssuer(issuerCertificate: hierarchy.issuing, signer: hierarchy.issuingSigner, profile: profile, random: random),
            crlBuilder: CRLBuilder(issuer: hierarchy.issuing, signer: hierarchy.issuingSigner, lifetime: configuration.crlLifetime),
            responder: hierarchy.ocspResponder, ocspResponseLifetime: profile.validity.ocspResponse,
            bankCode: configuration.bankCode, staffCertificateLifetime: configuration.staffCertificateLifetime, clock: clock, logger: logger)
        logon = LogonService(store: store, issuingCA: hierarchy.issuing, hasher: hasher, lockoutLimit: configuration.lockoutLimit, clock: clock,
                             logger: logger, perAccountPerMinute: configuration.attemptsPerAccountPerMinute)
        sessions = SessionService(store: store, clock: clock, random: random, absoluteTimeout: configuration.sessionAbsoluteTimeout,
                                  attemptsPerAddressPerMinute: configuration.attemptsPerMinute, logger: logger)
        staff = StaffService(store: store, hasher: hasher, certificates: certificates, clock: clock, random: random)
        branch = BranchService(store: store, certificates: certificates, logon: logon, hasher: hasher, vault: vault, clock: clock, random: random)
        cards = CardService(store: store, vault: vault, hasher: hasher, random: random)
        administrators = AdministratorService(store: store, hasher: hasher, logon: logon, clock: clock, userLimit: configuration.userLimit,
                                              userIdleTimeout: configuration.userIdleTimeout)
        logonFlow = LogonFlow(logon: logon, sessions: sessions, cards: cards, certificates: certificates, store: store,
                              userIdleTimeout: configuration.userIdleTimeout, staffIdleTimeout: configuration.staffIdleTimeout)
        acquisition = AcquisitionService(store: store, logon: logon, cards: cards, certificates: certificates, hasher: hasher,
                                         chain: [CAHierarchy.der(hierarchy.issuing), CAHierarchy.der(hierarchy.root)], clock: clock,
                                         failureLimit: configuration.lockoutLimit, perAccountPerMinute: configuration.attemptsPerAccountPerMinute)
        tlsMaterial = try Self.tlsMaterial(hierarchy, configuration: configuration)
        caSummary = Self.summary(hierarchy, configuration: configuration)
    }

    private static func tlsMaterial(_ hierarchy: CAHierarchy, configuration: BizDirectConfiguration) throws -> TLSMaterial {
        var chain = hierarchy.tlsCertificateChainPEM, key = hierarchy.tlsPrivateKeyPEM
        if let certificatePath = configuration.tlsCertificatePath, let keyPath = configuration.tlsKeyPath {
            guard let certificateText = try? String(contentsOfFile: certificatePath, encoding: .utf8),
                  let keyText = try? String(contentsOfFile: keyPath, encoding: .utf8) else {
                throw BizDirectError.internal("config.tls-certificate", "Setting tls-certificate: the certificate or key file cannot be read.")
            }
            chain = [certificateText]
            key = keyText
        }
        return TLSMaterial(serverChainPEM: chain, serverKeyPEM: key, issuingCAPEM: try CAHierarchy.pem(hierarchy.issuing),
                           rootCAPEM: try CAHierarchy.pem(hierarchy.root), rootCADER: CAHierarchy.der(hierarchy.root),
                           issuingCADER: CAHierarchy.der(hierarchy.issuing), rootFingerprint: hierarchy.rootFingerprint,
                           tlsCAPEM: try hierarchy.tlsCA.map { ca throws(BizDirectError) in try CAHierarchy.pem(ca) },
                           tlsCADER: hierarchy.tlsCA.map(CAHierarchy.der), tlsCAFingerprint: hierarchy.tlsCAFingerprint,
                           caCreated: hierarchy.created, rootKeyOnHost: hierarchy.rootKeyOnHost?.path)
    }

    /// The CA in use, for `bizdirect ca show`: each certificate's fingerprint and expiry, and
    /// where its key is (a file, the token, or off this host).
    public let caSummary: [String]

    private static func summary(_ hierarchy: CAHierarchy, configuration: BizDirectConfiguration) -> [String] {
        let date = { (d: Date) in JapanTime.text(d, .stamp) + " JST" }
        let keys = configuration.pkcs11.map { "PKCS#11 token \"\($0.tokenLabel)\"" } ?? "the CA folder (\(configuration.keyPassphrase == nil ? "unencrypted" : "encrypted under the key passphrase"))"
        var lines = [
            "CA folder:          \(hierarchy.directory.path)",
            "Root CA:            \(hierarchy.rootFingerprint)  expires \(date(hierarchy.root.notValidAfter))",
            "  key:              \(hierarchy.rootKeyOnHost.map { "ON THIS HOST in \($0.path): move it off with `bizdirect ca move-root`" } ?? "not on this host")",
            "Issuing CA:         \(hierarchy.issuingFingerprint)  expires \(date(hierarchy.issuing.notValidAfter))",
            "  key:              \(keys)",
            "OCSP responder:     expires \(date(hierarchy.ocspResponder.certificate.notValidAfter)), renewed from \(date(hierarchy.ocspResponder.renewalDue))",
        ]
        if let tls = hierarchy.tlsCA, let fingerprint = hierarchy.tlsCAFingerprint {
            lines.append("TLS CA:             \(fingerprint)  expires \(date(tls.notValidAfter))")
        } else {
            lines.append("TLS:                external certificate (\(configuration.tlsCertificatePath ?? "-"))")
        }
        return lines
    }

    /// Verifies the audit chain, and that it still holds each anchor written down earlier.
    public func verifyAuditChain(anchors: [AuditAnchor] = []) async throws -> AuditVerification {
        try await database.store.verifyAuditChain(anchors: anchors)
    }

    /// The chain's newest event, to write down off the host.
    public func auditHead() async throws -> AuditAnchor? {
        try await database.store.auditHead()
    }

    /// Records an audit event outside any other change (e.g. a refused web request).
    public func audit(_ event: AuditEvent) async throws {
        try await database.store.appendAudit(event, at: clock.now())
    }

    /// Closes the database.
    public func shutdown() async {
        await database.shutdown()
    }

    /// Runs `work` and closes the database afterwards, whether `work` returns or throws (an RA
    /// dropped with its pool open traps in the pool's deinit). For the one-shot users: operator
    /// commands and the load tool.
    public func closing<T>(_ work: (RegistrationAuthority) async throws -> T) async throws -> T {
        do {
            let result = try await work(self)
            await shutdown()
            return result
        } catch {
            await shutdown()
            throw error
        }
    }

    /// The store, for the test harness and the operator commands that inspect state.
    public var store: Store { database.store }
}

/// The server-side secrets kept beside the CA keys: 32 random bytes each, owner-only, encrypted
/// under the key passphrase when one is set (`KeyFile.writeSecret`).
enum SecretFile: String {
    /// The PIN pepper (HMAC key in every PIN hash).
    case pepper = "pin-pepper.bin"
    /// The AES key of the card grids.
    case cardKey = "card-key.bin"

    /// Reads the secret, making it only with `mayCreate` (a new installation).
    func loadOrCreate(_ directory: URL, keyFile: KeyFile, mayCreate: Bool, random: any RandomSource) throws -> [UInt8] {
        let url = directory.appendingPathComponent(rawValue)
        if let bytes = try keyFile.readSecret(at: url) {
            guard bytes.count == 32 || !KeyFile.isEncrypted(url) else {
                // A wrong passphrase passes CBC's padding check about once in 256 tries.
                throw BizDirectError.internal("ca.keyUndecryptable", "\(rawValue) could not be decrypted: wrong passphrase or damaged file.")
            }
            guard bytes.count == 32 else {
                throw BizDirectError.internal("ca.secretDamaged", "\(rawValue) is damaged; restore it from backup (\(purpose) cannot be checked without it).")
            }
            return bytes
        }
        guard mayCreate else {
            throw BizDirectError.internal("ca.secretMissing", "\(rawValue) is missing from \(directory.path), and the database already holds data made with it: restore it from backup (\(purpose) cannot be checked without it).")
        }
        let secret = random.bytes(32)
        try keyFile.writeSecret(secret, to: url)
        return secret
    }

    private var purpose: String { self == .pepper ? "PINs" : "cards" }
}
