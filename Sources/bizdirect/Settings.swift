import ArgumentParser
import BizDirectCore
import Foundation

/// The settings every command accepts. Precedence: flags, then environment, then the config
/// file (JSON), then defaults.
struct Settings: ParsableArguments {
    @Option(help: "Data folder (env BIZDIRECT_DATA; default ./bizdirect-data).") var data: String?
    @Option(help: "Config file, JSON with the same names as the flags (env BIZDIRECT_CONFIG).") var config: String?
    @Option(help: "Bind address (env BIZDIRECT_BIND; default 127.0.0.1).") var bind: String?
    @Option(help: "Public site HTTPS port (env BIZDIRECT_PUBLIC_PORT; default 8443).") var publicPort: Int?
    @Option(help: "Certificate-logon HTTPS port (env BIZDIRECT_LOGON_PORT; default 8444).") var logonPort: Int?
    @Option(help: "CRL/OCSP/CA HTTP port (env BIZDIRECT_HTTP_PORT; default 8080).") var httpPort: Int?
    @Option(help: "Operations port: /health/live, /health/ready (env BIZDIRECT_OPS_PORT; default 9180).") var opsPort: Int?
    @Option(help: "Operations listener bind address (env BIZDIRECT_OPS_BIND; default 127.0.0.1).") var opsBind: String?
    @Option(help: "Reverse-proxy mode: serve the certificate-logon site over plain HTTP on this port to a TLS-terminating proxy that forwards the client certificate in the RFC 9440 Client-Cert header (env BIZDIRECT_REVERSE_PROXY_PORT; default off).") var reverseProxyPort: Int?
    @Option(help: "Address or CIDR of a reverse proxy whose Client-Cert, Forwarded and X-Forwarded-For headers are believed; repeat for several (env BIZDIRECT_TRUSTED_PROXIES, comma-separated).") var trustedProxy: [String] = []
    @Option(help: "Address or CIDR of a TCP load balancer that sends a PROXY header (v1 or v2) before TLS; repeat for several (env BIZDIRECT_PROXY_PROTOCOL_FROM, comma-separated; default none).") var proxyProtocolFrom: [String] = []
    @Option(help: "Host name for certificates and URLs; repeat for several (env BIZDIRECT_HOST_NAMES, comma-separated).") var hostName: [String] = []
    @Option(help: "Database URL: sqlite:///path or postgres://user:pass@host/db (env BIZDIRECT_DATABASE_URL).") var databaseURL: String?
    @Option(help: "Bank name in certificates (env BIZDIRECT_BANK_NAME).") var bankName: String?
    @Option(help: "Four-digit bank code (env BIZDIRECT_BANK_CODE; default 1635).") var bankCode: String?
    @Option(help: "Client certificate lifetime in seconds (env BIZDIRECT_CERTIFICATE_LIFETIME; default one year).") var certificateLifetime: Double?
    @Option(help: "Staff certificate lifetime in seconds (env BIZDIRECT_STAFF_CERTIFICATE_LIFETIME; default 90 days).") var staffCertificateLifetime: Double?
    @Option(help: "CRL lifetime in seconds, at most 86400 (env BIZDIRECT_CRL_LIFETIME).") var crlLifetime: Double?
    @Option(help: "Wrong PINs before a lock, 3–10 (env BIZDIRECT_LOCKOUT_LIMIT; default 6).") var lockoutLimit: Int?
    @Option(help: "Idle timeout in seconds for administrators and staff (env BIZDIRECT_STAFF_IDLE_TIMEOUT; default 900).") var staffIdleTimeout: Double?
    @Option(help: "Idle timeout in seconds for users (env BIZDIRECT_USER_IDLE_TIMEOUT; default 1800).") var userIdleTimeout: Double?
    @Option(help: "Absolute session lifetime in seconds (env BIZDIRECT_SESSION_TIMEOUT; default 43200).") var sessionTimeout: Double?
    @Option(help: "Users per contract (env BIZDIRECT_USER_LIMIT; default 99).") var userLimit: Int?
    @Option(help: "Secret-checking requests allowed per client address per minute (env BIZDIRECT_ATTEMPTS_PER_MINUTE; default 30).") var attemptsPerMinute: Int?
    @Option(help: "Acquisition attempts per contract ID and per user ID, and logon starts per holder, per minute, shared by every process (env BIZDIRECT_ATTEMPTS_PER_ACCOUNT_PER_MINUTE; default 10).") var attemptsPerAccountPerMinute: Int?
    @Option(help: "PIN hashes running or waiting at most; past it requests get 503 (env BIZDIRECT_PIN_HASH_CAPACITY; default 64).") var pinHashCapacity: Int?
    @Option(help: "Of those, how many callers without a certificate may take (env BIZDIRECT_ANONYMOUS_PIN_HASH_SHARE; default 32).") var anonymousPinHashShare: Int?
    @Option(help: "scrypt cost exponent, N = 2^value (env BIZDIRECT_SCRYPT_LOG_N; default 15).") var scryptLogN: Int?
    @Option(help: "Externally issued TLS server certificate chain, PEM (env BIZDIRECT_TLS_CERTIFICATE).") var tlsCertificate: String?
    @Option(help: "Key for --tls-certificate, PEM (env BIZDIRECT_TLS_KEY).") var tlsKey: String?
    @Option(help: "PBKDF2 rounds for key files written under BIZDIRECT_KEY_PASSPHRASE (env BIZDIRECT_KEY_DERIVATION_ROUNDS; default 600000; fewer only for tests).") var keyDerivationRounds: Int?
    @Option(help: "OCSP responder certificate lifetime in seconds, renewed while serving (env BIZDIRECT_OCSP_RESPONDER_LIFETIME; default 30 days).") var ocspResponderLifetime: Double?
    @Option(help: "PKCS#11 module holding the issuing CA and OCSP keys, e.g. /usr/lib/softhsm/libsofthsm2.so (env BIZDIRECT_PKCS11_MODULE).") var pkcs11Module: String?
    @Option(help: "Label of the PKCS#11 token (env BIZDIRECT_PKCS11_TOKEN).") var pkcs11Token: String?
    @Option(help: "File holding the token's user PIN (env BIZDIRECT_PKCS11_PIN_FILE; or give the PIN itself in BIZDIRECT_PKCS11_PIN).") var pkcs11PinFile: String?
    @Option(help: "Label of the issuing CA key in the token (env BIZDIRECT_PKCS11_ISSUING_KEY_LABEL; default bizdirect-issuing-ca).") var pkcs11IssuingKeyLabel: String?
    @Option(help: "Label of the OCSP responder key in the token (env BIZDIRECT_PKCS11_OCSP_KEY_LABEL; default bizdirect-ocsp-responder).") var pkcs11OcspKeyLabel: String?

    /// The resolved, validated configuration.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BizDirectConfiguration {
        let file = try ConfigFile.load(config ?? environment["BIZDIRECT_CONFIG"])
        func pick<T>(_ flag: T?, _ env: String, _ parse: (String) -> T?) throws -> T? {
            if let flag { return flag }
            if let text = environment[env] {
                guard let value = parse(text) else { throw ValidationError("Setting \(env) is not valid: \(text)") }
                return value
            }
            return file[env].flatMap(parse)
        }
        let dataPath = try pick(data, "BIZDIRECT_DATA", { $0 }) ?? "./bizdirect-data"
        var c = BizDirectConfiguration(dataDirectory: URL(fileURLWithPath: dataPath).standardizedFileURL)
        c.bindAddress = try pick(bind, "BIZDIRECT_BIND", { $0 }) ?? c.bindAddress
        c.publicPort = try pick(publicPort, "BIZDIRECT_PUBLIC_PORT", { Int($0) }) ?? c.publicPort
        c.logonPort = try pick(logonPort, "BIZDIRECT_LOGON_PORT", { Int($0) }) ?? c.logonPort
        c.httpPort = try pick(httpPort, "BIZDIRECT_HTTP_PORT", { Int($0) }) ?? c.httpPort
        c.operationsPort = try pick(opsPort, "BIZDIRECT_OPS_PORT", { Int($0) }) ?? c.operationsPort
        c.operationsBindAddress = try pick(opsBind, "BIZDIRECT_OPS_BIND", { $0 }) ?? c.operationsBindAddress
        func ranges(_ flag: [String], _ env: String, _ name: String) throws -> [AddressRange] {
            let entries = try pick(flag.isEmpty ? nil : flag, env, { $0.split(separator: ",").map(String.init) }) ?? []
            var ranges: [AddressRange] = []
            for entry in entries {
                do throws(BizDirectError) {
                    ranges.append(try AddressRange(parsing: entry.trimmingCharacters(in: .whitespaces)))
                } catch {
                    throw ValidationError("Setting \(name) is not valid: \(error.detail)")
                }
            }
            return ranges
        }
        c.proxyProtocolFrom = try ranges(proxyProtocolFrom, "BIZDIRECT_PROXY_PROTOCOL_FROM", "proxy-protocol-from")
        c.trustedProxies = try ranges(trustedProxy, "BIZDIRECT_TRUSTED_PROXIES", "trusted-proxy")
        c.reverseProxyPort = try pick(reverseProxyPort, "BIZDIRECT_REVERSE_PROXY_PORT", { Int($0) })
        c.hostNames = try pick(hostName.isEmpty ? nil : hostName, "BIZDIRECT_HOST_NAMES", { $0.split(separator: ",").map(String.init) }) ?? c.hostNames
        c.databaseURL = try pick(databaseURL, "BIZDIRECT_DATABASE_URL", { $0 })
        c.bankName = try pick(bankName, "BIZDIRECT_BANK_NAME", { $0 }) ?? c.bankName
        c.bankCode = try pick(bankCode, "BIZDIRECT_BANK_CODE", { $0 }) ?? c.bankCode
        c.certificateLifetime = try pick(certificateLifetime, "BIZDIRECT_CERTIFICATE_LIFETIME", { Double($0) }) ?? c.certificateLifetime
        c.staffCertificateLifetime = try pick(staffCertificateLifetime, "BIZDIRECT_STAFF_CERTIFICATE_LIFETIME", { Double($0) })
            ?? min(c.staffCertificateLifetime, c.certificateLifetime)
        c.crlLifetime = try pick(crlLifetime, "BIZDIRECT_CRL_LIFETIME", { Double($0) }) ?? c.crlLifetime
        c.lockoutLimit = try pick(lockoutLimit, "BIZDIRECT_LOCKOUT_LIMIT", { Int($0) }) ?? c.lockoutLimit
        c.staffIdleTimeout = try pick(staffIdleTimeout, "BIZDIRECT_STAFF_IDLE_TIMEOUT", { Double($0) }) ?? c.staffIdleTimeout
        c.userIdleTimeout = try pick(userIdleTimeout, "BIZDIRECT_USER_IDLE_TIMEOUT", { Double($0) }) ?? c.userIdleTimeout
        c.sessionAbsoluteTimeout = try pick(sessionTimeout, "BIZDIRECT_SESSION_TIMEOUT", { Double($0) }) ?? c.sessionAbsoluteTimeout
        c.userLimit = try pick(userLimit, "BIZDIRECT_USER_LIMIT", { Int($0) }) ?? c.userLimit
        c.attemptsPerMinute = try pick(attemptsPerMinute, "BIZDIRECT_ATTEMPTS_PER_MINUTE", { Int($0) }) ?? c.attemptsPerMinute
        c.attemptsPerAccountPerMinute = try pick(attemptsPerAccountPerMinute, "BIZDIRECT_ATTEMPTS_PER_ACCOUNT_PER_MINUTE", { Int($0) })
            ?? c.attemptsPerAccountPerMinute
        c.pinHashCapacity = try pick(pinHashCapacity, "BIZDIRECT_PIN_HASH_CAPACITY", { Int($0) }) ?? c.pinHashCapacity
        c.anonymousPINHashShare = try pick(anonymousPinHashShare, "BIZDIRECT_ANONYMOUS_PIN_HASH_SHARE", { Int($0) }) ?? c.anonymousPINHashShare
        c.scryptLogN = try pick(scryptLogN, "BIZDIRECT_SCRYPT_LOG_N", { Int($0) }) ?? c.scryptLogN
        c.tlsCertificatePath = try pick(tlsCertificate, "BIZDIRECT_TLS_CERTIFICATE", { $0 })
        c.tlsKeyPath = try pick(tlsKey, "BIZDIRECT_TLS_KEY", { $0 })
        c.keyPassphrase = environment["BIZDIRECT_KEY_PASSPHRASE"]
        c.keyDerivationRounds = try pick(keyDerivationRounds, "BIZDIRECT_KEY_DERIVATION_ROUNDS", { Int($0) }) ?? c.keyDerivationRounds
        c.ocspResponderLifetime = try pick(ocspResponderLifetime, "BIZDIRECT_OCSP_RESPONDER_LIFETIME", { Double($0) }) ?? c.ocspResponderLifetime
        if let module = try pick(pkcs11Module, "BIZDIRECT_PKCS11_MODULE", { $0 }) {
            guard let token = try pick(pkcs11Token, "BIZDIRECT_PKCS11_TOKEN", { $0 }) else {
                throw ValidationError("Setting pkcs11-token is not valid: give the token label with the PKCS#11 module.")
            }
            var pin = environment["BIZDIRECT_PKCS11_PIN"]
            if let pinFile = try pick(pkcs11PinFile, "BIZDIRECT_PKCS11_PIN_FILE", { $0 }) {
                guard let text = try? String(contentsOfFile: pinFile, encoding: .utf8) else {
                    throw ValidationError("Setting pkcs11-pin-file is not valid: \(pinFile) cannot be read.")
                }
                pin = text.trimmingCharacters(in: .newlines)
            }
            guard let pin, !pin.isEmpty else {
                throw ValidationError("Setting pkcs11-pin-file is not valid: give the token PIN in BIZDIRECT_PKCS11_PIN or a file (--pkcs11-pin-file).")
            }
            var settings = PKCS11Settings(modulePath: module, tokenLabel: token, pin: pin)
            settings.issuingKeyLabel = try pick(pkcs11IssuingKeyLabel, "BIZDIRECT_PKCS11_ISSUING_KEY_LABEL", { $0 }) ?? settings.issuingKeyLabel
            settings.ocspKeyLabel = try pick(pkcs11OcspKeyLabel, "BIZDIRECT_PKCS11_OCSP_KEY_LABEL", { $0 }) ?? settings.ocspKeyLabel
            c.pkcs11 = settings
        }
        do { try c.validate() } catch { throw ValidationError(error.detail) }
        return c
    }
}

/// A JSON config file, read into environment-style keys ("public-port" → BIZDIRECT_PUBLIC_PORT).
enum ConfigFile {
    static func load(_ path: String?) throws -> [String: String] {
        guard let path else { return [:] }
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ValidationError("The config file \(path) cannot be read as a JSON object.")
        }
        var result: [String: String] = [:]
        for (key, value) in object {
            let name = "BIZDIRECT_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
            result[name] = (value as? [Any]).map { $0.map { "\($0)" }.joined(separator: ",") } ?? "\(value)"
        }
        return result
    }
}
