import Foundation

/// Every setting of a BizDirect deployment, as one typed value.
///
/// The command line fills it from flags, environment, a config file and these defaults, in
/// that order of precedence, then calls `validate()`; a bad value stops start-up.
public struct BizDirectConfiguration: Sendable {
    /// The data folder: CA keys, certificates, the SQLite database.
    public var dataDirectory: URL
    /// The address the listeners bind to.
    public var bindAddress: String = "127.0.0.1"
    /// Public site (HTTPS, no client certificate).
    public var publicPort: Int = 8443
    /// Certificate-logon site (HTTPS, client certificate requested).
    public var logonPort: Int = 8444
    /// CRL, OCSP and CA certificates (plain HTTP).
    public var httpPort: Int = 8080
    /// The operations listener (health checks for the load balancer), plain HTTP. It is not a
    /// customer-facing port: it binds to `operationsBindAddress`, loopback by default.
    public var operationsPort: Int = 9180
    /// The address the operations listener binds to.
    public var operationsBindAddress: String = "127.0.0.1"
    /// Load balancers in TCP passthrough mode (HAProxy `send-proxy-v2`, nginx `proxy_protocol on`)
    /// whose connections begin with a PROXY header naming the client's address. Connections from
    /// these addresses must send one; connections from anywhere else are taken as they come.
    /// Empty (the default): no PROXY header is read from anyone.
    public var proxyProtocolFrom: [AddressRange] = []
    /// Reverse-proxy mode: a plain-HTTP listener on this port serves the certificate-logon site
    /// to a TLS-terminating proxy, which forwards the client certificate in the RFC 9440
    /// `Client-Cert` header. Nil (the default): no such listener.
    public var reverseProxyPort: Int?
    /// The proxies whose `Client-Cert`, `Forwarded` and `X-Forwarded-For` headers the
    /// reverse-proxy listener believes; from anyone else those headers are refused.
    public var trustedProxies: [AddressRange] = []
    /// Host names in the TLS server certificate and in published URLs; the first is canonical.
    public var hostNames: [String] = ["localhost", "127.0.0.1", "::1"]
    /// `sqlite:///…` (default: a file in the data folder) or `postgres://…`.
    public var databaseURL: String?
    /// The bank's name, put in O= of certificates.
    public var bankName: String = "BizDirect Shinkin Bank"
    /// The bank's four-digit code, appended to contract IDs in administrator certificates.
    public var bankCode: String = "1635"
    /// Client-certificate lifetime in seconds (one year by default; tests may use seconds).
    public var certificateLifetime: TimeInterval = 365 * 86_400
    /// Staff certificate lifetime in seconds (90 days by default: staff hold more power, and
    /// a leaver's certificate should not outlive a quarter).
    public var staffCertificateLifetime: TimeInterval = 90 * 86_400
    /// CRL lifetime in seconds (at most 24 hours).
    public var crlLifetime: TimeInterval = 86_400
    /// Idle timeout for administrators and staff, seconds.
    public var staffIdleTimeout: TimeInterval = 15 * 60
    /// Idle timeout for users, seconds.
    public var userIdleTimeout: TimeInterval = 30 * 60
    /// Absolute session lifetime, seconds.
    public var sessionAbsoluteTimeout: TimeInterval = 12 * 3600
    /// Wrong PINs allowed before a lock (3–10).
    public var lockoutLimit: Int = 6
    /// scrypt cost exponent: N = 2^this.
    public var scryptLogN: Int = 15
    /// Passphrase for keys on disk (from BIZDIRECT_KEY_PASSPHRASE), or nil.
    public var keyPassphrase: String?
    /// PBKDF2 rounds for key files written under the passphrase (600,000; tests use fewer).
    public var keyDerivationRounds: Int = 600_000
    /// Externally issued TLS server certificate chain (PEM file), replacing the generated one.
    public var tlsCertificatePath: String?
    /// Key for `tlsCertificatePath` (PEM file).
    public var tlsKeyPath: String?
    /// Users per contract.
    public var userLimit: Int = 99
    /// Secret-checking requests (PIN, card, acquisition) allowed per client address per minute.
    public var attemptsPerMinute: Int = 30
    /// Secret-checking requests allowed per account (contract ID, user ID, holder) per minute,
    /// counted in the database so that every server process shares the count.
    public var attemptsPerAccountPerMinute: Int = 10
    /// Largest request body accepted, bytes.
    public var maximumBodySize: Int = 256 * 1024
    /// PIN hashes running or waiting at most; past it requests get 503 with Retry-After.
    public var pinHashCapacity: Int = 64
    /// Of those, at most this many for callers without a certificate (acquisition).
    public var anonymousPINHashShare: Int = 32
    /// Lifetime of each OCSP responder certificate (it carries ocsp-nocheck, so it is short and
    /// renewed while serving, at two thirds of its life).
    public var ocspResponderLifetime: TimeInterval = 30 * 86_400
    /// The PKCS#11 token holding the issuing CA and OCSP responder keys, or nil for key files.
    public var pkcs11: PKCS11Settings?

    /// Defaults for a data folder.
    public init(dataDirectory: URL) { self.dataDirectory = dataDirectory }

    /// The database URL actually used.
    public var effectiveDatabaseURL: String {
        databaseURL ?? "sqlite://" + dataDirectory.appendingPathComponent("bizdirect.sqlite").path
    }

    /// Where the CA's keys and certificates live.
    public var caDirectory: URL { dataDirectory.appendingPathComponent("ca") }

    /// The canonical host name for URLs.
    public var canonicalHost: String {
        let host = hostNames.first ?? "localhost"
        return host.contains(":") ? "[\(host)]" : host
    }

    /// The plain-HTTP base URL published in certificates.
    public var publicationBaseURL: String { "http://\(canonicalHost):\(httpPort)" }

    /// Checks every setting; the error names the one that is wrong.
    public func validate() throws(BizDirectError) {
        func bad(_ name: String, _ rule: String) -> BizDirectError {
            .malformed("config.\(name)", "Setting \(name) is not valid: \(rule).")
        }
        for (name, port) in [("public-port", publicPort), ("logon-port", logonPort), ("http-port", httpPort), ("ops-port", operationsPort)] {
            guard (0...65535).contains(port) else { throw bad(name, "a port is 0–65535") }
        }
        if let reverseProxyPort {
            guard (0...65535).contains(reverseProxyPort) else { throw bad("reverse-proxy-port", "a port is 0–65535") }
            guard !trustedProxies.isEmpty else { throw bad("trusted-proxy", "reverse-proxy mode needs at least one trusted proxy address") }
        }
        guard !hostNames.isEmpty, hostNames.allSatisfy({ !$0.isEmpty && !$0.contains("/") }) else {
            throw bad("host-name", "give at least one host name without scheme or path")
        }
        guard !bankName.isEmpty else { throw bad("bank-name", "it must not be empty") }
        _ = try BankCode(bankCode)
        guard certificateLifetime >= 1, certificateLifetime <= 398 * 86_400 else { throw bad("certificate-lifetime", "1 second to 398 days") }
        guard staffCertificateLifetime >= 1, staffCertificateLifetime <= certificateLifetime else {
            throw bad("staff-certificate-lifetime", "1 second up to the client certificate lifetime")
        }
        guard crlLifetime >= 60, crlLifetime <= 86_400 else { throw bad("crl-lifetime", "60 seconds to 24 hours") }
        guard (3...10).contains(lockoutLimit) else { throw bad("lockout-limit", "3 to 10") }
        guard (10...20).contains(scryptLogN) else { throw bad("scrypt-log-n", "10 to 20") }
        guard staffIdleTimeout > 0, userIdleTimeout > 0, sessionAbsoluteTimeout >= max(staffIdleTimeout, userIdleTimeout) else {
            throw bad("session-timeouts", "idle timeouts must be positive and not longer than the absolute timeout")
        }
        guard (tlsCertificatePath == nil) == (tlsKeyPath == nil) else { throw bad("tls-certificate", "give both the certificate and its key") }
        if let url = databaseURL, !(url.hasPrefix("sqlite://") || url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
            throw bad("database-url", "use sqlite:///path or postgres://user@host/db")
        }
        guard (1...9_999).contains(userLimit) else { throw bad("user-limit", "1 to 9999") }
        guard (1...10_000).contains(attemptsPerMinute) else { throw bad("attempts-per-minute", "1 to 10000") }
        guard (1...10_000).contains(attemptsPerAccountPerMinute) else { throw bad("attempts-per-account-per-minute", "1 to 10000") }
        guard maximumBodySize >= 1024 else { throw bad("maximum-body-size", "at least 1024 bytes") }
        guard (2...10_000).contains(pinHashCapacity) else { throw bad("pin-hash-capacity", "2 to 10000") }
        guard (1..<pinHashCapacity).contains(anonymousPINHashShare) else {
            throw bad("anonymous-pin-hash-share", "at least 1 and less than pin-hash-capacity")
        }
        guard (10_000...10_000_000).contains(keyDerivationRounds) else { throw bad("key-derivation-rounds", "10000 to 10000000") }
        guard ocspResponderLifetime >= 3600, ocspResponderLifetime <= 90 * 86_400 else {
            throw bad("ocsp-responder-lifetime", "1 hour to 90 days")
        }
        if let pkcs11 {
            guard pkcs11.modulePath.hasPrefix("/") else { throw bad("pkcs11-module", "give the absolute path of the PKCS#11 module") }
            guard !pkcs11.tokenLabel.isEmpty else { throw bad("pkcs11-token", "give the token label") }
            guard !pkcs11.issuingKeyLabel.isEmpty, !pkcs11.ocspKeyLabel.isEmpty else { throw bad("pkcs11-key-label", "key labels must not be empty") }
        }
    }
}

/// Where the PKCS#11 token is and which keys in it the CA uses.
public struct PKCS11Settings: Sendable, Equatable {
    /// Absolute path of the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so).
    public var modulePath: String
    /// Label of the token (CKA_LABEL of its slot's token info).
    public var tokenLabel: String
    /// The user PIN (from BIZDIRECT_PKCS11_PIN or the file named by --pkcs11-pin-file); never logged.
    public var pin: String
    /// Label of the issuing CA's private key.
    public var issuingKeyLabel: String = "bizdirect-issuing-ca"
    /// Label of the OCSP responder's private key.
    public var ocspKeyLabel: String = "bizdirect-ocsp-responder"

    /// Settings for a token.
    public init(modulePath: String, tokenLabel: String, pin: String) {
        self.modulePath = modulePath
        self.tokenLabel = tokenLabel
        self.pin = pin
    }
}
