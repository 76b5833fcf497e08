import ArgumentParser
import BizDirectCore
import Foundation
import Logging
import RegistrationAuthority

/// The one place that builds the object graph from a configuration.
enum CompositionRoot {
    /// Opens the RA (CA, database, services); a start-up failure names the setting or file.
    static func openRA(_ configuration: BizDirectConfiguration, logger: Logger) async throws -> RegistrationAuthority {
        do {
            try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            return try await RegistrationAuthority.open(configuration: configuration, logger: logger)
        } catch let error as BizDirectError {
            FileHandle.standardError.write(Data("bizdirect: cannot start: \(error.detail)\n".utf8))
            throw ExitCodeError.startup
        }
    }

    /// Opens the RA for one operator command, runs `work`, and always closes it again. A refusal
    /// from the RA becomes its one-line message, never internals.
    static func withRA<T>(_ settings: Settings, _ work: (RegistrationAuthority) async throws -> T) async throws -> T {
        // A refusal stays a BizDirectError: `BizDirectCommand.main` prints it as one line, not as a usage error.
        try await openRA(try settings.resolve(), logger: Logger(label: "bizdirect")).closing(work)
    }

    /// What an operator needs on start: URLs, the root fingerprint and how to trust the CA.
    static func printBanner(_ c: BizDirectConfiguration, ra: RegistrationAuthority) {
        let host = c.canonicalHost
        // Written straight to the file descriptor: print() would sit in a buffer while serving.
        FileHandle.standardOutput.write(Data("""
        BizDirect is starting\(ra.tlsMaterial.caCreated ? " (a new CA was created in \(c.caDirectory.path))" : "").
          Public site:             https://\(host):\(c.publicPort)/
          Certificate-logon site:  https://\(host):\(c.logonPort)/logon
          CRL, OCSP, CA certs:     \(c.publicationBaseURL)/
        Client-certificate root CA SHA-256 fingerprint (for relying parties; customers do not import it):
          \(ra.tlsMaterial.rootFingerprint)
        \(trustAdvice(c, ra: ra))
        """.utf8))
        if let rootKey = ra.tlsMaterial.rootKeyOnHost {
            FileHandle.standardError.write(Data("""
            WARNING: the root CA's private key is still on this host, in \(rootKey).
              `serve` never reads it, but whoever takes this host takes it. Move it to offline media with
              `bizdirect ca move-root --to /media/offline/root-ca` (see docs/OPERATIONS.md, "The root ceremony").

            """.utf8))
        }
    }

    /// How customers come to trust the TLS certificate.
    private static func trustAdvice(_ c: BizDirectConfiguration, ra: RegistrationAuthority) -> String {
        guard let fingerprint = ra.tlsMaterial.tlsCAFingerprint else {
            return "TLS: the external certificate from --tls-certificate is served; customers import nothing.\n"
        }
        return """
        TLS CA SHA-256 fingerprint (name-constrained to \(c.hostNames.joined(separator: ", "))):
          \(fingerprint)
        Customers trust it: download \(c.publicationBaseURL)/ca/tls-ca.der, check the fingerprint, and import it as a
        trusted certificate authority (Chrome/Edge: Settings > Privacy and security > Security > Manage certificates;
        Firefox: Settings > Privacy and security > Connection and software security: Advanced settings >
        Certificates: Manage certificates > Authorities > Import).

        """
    }
}

/// Exit status for a start-up failure whose message was already printed.
enum ExitCodeError: Error, CustomStringConvertible {
    case startup
    var description: String { "start-up failed" }
}
