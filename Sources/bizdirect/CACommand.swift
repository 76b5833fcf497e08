import ArgumentParser
import BizDirectCore
import Foundation
import Logging
import RegistrationAuthority

/// `bizdirect ca …`: the CA ceremony and key custody (docs/OPERATIONS.md, "CA key custody").
struct CA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The CA ceremony and key custody: root, issuing CA, TLS CA, passphrase.",
        discussion: """
            The serving process never reads the root CA's key. A newcomer start leaves it in DATA/root-ca-offline; \
            move it off the host with `move-root`. In production the root is made on an offline machine with \
            `create-root`, and each issuing CA goes through `request-issuing` (on the server), `sign-issuing` \
            (at the offline machine) and `install-issuing` (on the server).
            """,
        subcommands: [Show.self, CreateRoot.self, RequestIssuing.self, SignIssuing.self, InstallIssuing.self, MoveRoot.self,
                      NewTLSCA.self, RekeyPassphrase.self])

    static var actor: String { "cli:\(NSUserName())" }

    /// Prints the CA in use: fingerprints, expiry, where the keys are.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the CA certificates, their fingerprints and expiry, and where the keys are.")
        @OptionGroup var settings: Settings

        func run() async throws {
            try await CompositionRoot.withRA(settings) { ra in
                ra.caSummary.forEach { print($0) }
            }
        }
    }

    /// The root ceremony, on the offline machine.
    struct CreateRoot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new root CA (ECDSA P-384, 20 years) in a folder on the offline machine.",
            discussion: "With --pkcs11-module the root's key is the token's key labelled --root-key-label (make it first with pkcs11-tool --keypairgen --key-type EC:secp384r1); otherwise a new key is written encrypted under BIZDIRECT_KEY_PASSPHRASE.")
        @OptionGroup var settings: Settings
        @Option(help: "The folder for the root (on offline media).") var out: String
        @Option(help: "Label of the root key in the token.") var rootKeyLabel: String = "bizdirect-root-ca"

        func run() async throws {
            let fingerprint = try CAAdministration.createRoot(configuration: try settings.resolve(), in: URL(fileURLWithPath: out),
                                                              rootKeyLabel: rootKeyLabel)
            print("Root CA made in \(out).")
            print("SHA-256 fingerprint: \(fingerprint)  (write it down; relying parties check it)")
            print("Copy \(out)/root-ca.cert.pem to the servers' CA folder; the key never leaves the offline machine.")
        }
    }

    /// On the server: a new issuing key and its request.
    struct RequestIssuing: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a new issuing-CA key (in the token, or waiting in the CA folder) and write its PKCS#10 request; with --renew, a request of the current key.")
        @OptionGroup var settings: Settings
        @Option(help: "Where to write the request (PEM).") var out: String = "issuing-ca.csr.pem"
        @Option(help: "Generation number of the new issuing CA (its name says it).") var generation: Int = 2
        @Flag(help: "Request a renewal of the current issuing CA with its current key and name (no new key).") var renew = false

        func run() async throws {
            let request = try CAAdministration.requestIssuing(configuration: try settings.resolve(), generation: generation, renewCurrent: renew)
            try Data(request.utf8).write(to: URL(fileURLWithPath: out))
            print("Request written to \(out). Sign it at the root ceremony: bizdirect ca sign-issuing --root DIR --request \(out)")
        }
    }

    /// At the offline machine: the root signs an issuing-CA request.
    struct SignIssuing: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "At the root ceremony: sign an issuing-CA request with the root.")
        @OptionGroup var settings: Settings
        @Option(help: "The root's folder.") var root: String
        @Option(help: "The issuing-CA request (PEM or DER).") var request: String
        @Option(help: "Where to write the issuing-CA certificate (PEM).") var out: String = "issuing-ca.cert.pem"
        @Option(help: "Label of the root key in the token.") var rootKeyLabel: String = "bizdirect-root-ca"

        func run() async throws {
            guard let bytes = FileManager.default.contents(atPath: request) else { throw ValidationError("Cannot read \(request).") }
            let certificate = try CAAdministration.signIssuing(configuration: try settings.resolve(), rootDirectory: URL(fileURLWithPath: root),
                                                               request: Array(bytes), rootKeyLabel: rootKeyLabel)
            try Data(certificate.utf8).write(to: URL(fileURLWithPath: out))
            print("Issuing-CA certificate written to \(out). Install it on the server: bizdirect ca install-issuing --certificate \(out)")
        }
    }

    /// On the server: installs the signed issuing-CA certificate and re-binds the database.
    struct InstallIssuing: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install a signed issuing-CA certificate (renewal with the same key, or --rollover to a new key).",
            discussion: "A rollover is the response to a compromised issuing key: every certificate of the old key stops verifying, so revoke them and have every customer acquire again (docs/OPERATIONS.md).")
        @OptionGroup var settings: Settings
        @Option(help: "The issuing-CA certificate (PEM) from sign-issuing.") var certificate: String
        @Flag(help: "Allow a new key (a rollover).") var rollover = false

        func run() async throws {
            guard let text = try? String(contentsOfFile: certificate, encoding: .utf8) else { throw ValidationError("Cannot read \(certificate).") }
            print(try await CAAdministration.installIssuing(configuration: try settings.resolve(), certificatePEM: text, rollover: rollover,
                                                            actor: CA.actor, logger: Logger(label: "bizdirect")))
        }
    }

    /// Moves the newcomer's root key off the host.
    struct MoveRoot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move the root CA's key from DATA/root-ca-offline to offline media (copied, checked, then removed).")
        @OptionGroup var settings: Settings
        @Option(help: "The folder on the offline media.") var to: String

        func run() async throws {
            try CAAdministration.moveRoot(configuration: try settings.resolve(), to: URL(fileURLWithPath: to))
            print("The root CA's key is now in \(to) and no longer on this host. Keep the media offline, in dual custody.")
        }
    }

    /// A new TLS CA for changed host names.
    struct NewTLSCA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new name-constrained TLS CA for the configured host names (customers must then trust the new CA).")
        @OptionGroup var settings: Settings

        func run() async throws {
            let fingerprint = try await CAAdministration.newTLSCA(configuration: try settings.resolve(), actor: CA.actor, logger: Logger(label: "bizdirect"))
            print("New TLS CA made; SHA-256 fingerprint \(fingerprint). Restart every instance, and tell customers to trust the new CA (help page).")
        }
    }

    /// Re-encrypts every key and secret file under a new passphrase.
    struct RekeyPassphrase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt every key and secret file under the passphrase in BIZDIRECT_NEW_KEY_PASSPHRASE.",
            discussion: "The current passphrase comes from BIZDIRECT_KEY_PASSPHRASE (unset: the files are unencrypted). Run again if it was cut off; files already re-encrypted are left as they are. Set BIZDIRECT_NEW_KEY_PASSPHRASE to an empty string to store the files unencrypted (not for production).")
        @OptionGroup var settings: Settings

        func run() async throws {
            guard let new = ProcessInfo.processInfo.environment["BIZDIRECT_NEW_KEY_PASSPHRASE"] else {
                throw ValidationError("Set BIZDIRECT_NEW_KEY_PASSPHRASE to the new passphrase.")
            }
            let files = try await CAAdministration.rekeyPassphrase(configuration: try settings.resolve(), newPassphrase: new.isEmpty ? nil : new,
                                                                   actor: CA.actor, logger: Logger(label: "bizdirect"))
            print("Re-encrypted \(files.count) file(s): \(files.joined(separator: ", ")). Start the servers with the new BIZDIRECT_KEY_PASSPHRASE.")
        }
    }
}

/// `bizdirect certificate …`: the operator's revocation (a reported key compromise, say).
struct CertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "certificate", abstract: "Revoke certificates.",
                                                    subcommands: [Revoke.self])

    /// Revokes each serial, each with the CRL that lists it in one transaction (audited).
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke certificates by serial; each revocation and the CRL that lists it commit together (audited).")
        @OptionGroup var settings: Settings
        @Option(help: "RFC 5280 reason: keyCompromise, caCompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn, …")
        var reason: String = "unspecified"
        @Argument(help: "Serial numbers (hex).") var serials: [String]

        func run() async throws {
            try await CompositionRoot.withRA(settings) { ra in
                for serial in serials {
                    let changed = try await ra.certificates.revoke(serial: serial, reasonName: reason, actor: CA.actor)
                    print(changed ? "\(serial.lowercased()) revoked (\(reason))." : "\(serial.lowercased()) was already revoked.")
                }
            }
        }
    }
}
