import Logging
import RegistrationAuthority
import ServiceLifecycle

/// Keeps the published CRL fresh without waiting for a relying party to ask. Each tick asks for
/// the current CRL, which is re-made once half its lifetime has passed; re-making it also revokes
/// renewed certificates that ran out unused (see `CertificateService.publishCRL`).
struct CRLRefresher: Service {
    let ra: RegistrationAuthority
    let logger: Logger

    /// How often to look: a sixteenth of the CRL's lifetime, between 1 second and 10 minutes.
    var interval: Duration {
        .seconds(min(max(ra.configuration.crlLifetime / 16, 1), 600))
    }

    func run() async throws {
        await Self.repeatUntilShutdown(every: interval, logger: logger, failure: "CRL refresh failed") {
            _ = try await ra.certificates.currentCRL()
        }
    }
}

extension Service {
    /// Runs `work` every `interval` until graceful shutdown; a failed run is logged and the next
    /// tick tries again (the loop of every background service here).
    static func repeatUntilShutdown(every interval: Duration, logger: Logger, failure: String,
                                    _ work: () async throws -> Void) async {
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return      // shutting down
            }
            do {
                try await work()
            } catch {
                logger.error("\(failure); the next tick tries again", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Renews the OCSP responder certificate while the server runs, once a third of its short life
/// is left (`CertificateService.renewOCSPResponderIfDue`), so that a server that runs for months
/// never answers with an expired responder.
struct OCSPResponderRenewer: Service {
    let ra: RegistrationAuthority
    let logger: Logger

    /// How often to look: 1/720 of the responder's lifetime (an hour for the default 30 days),
    /// between 1 second and 1 hour.
    var interval: Duration {
        .seconds(min(max(ra.configuration.ocspResponderLifetime / 720, 1), 3600))
    }

    func run() async throws {
        await Self.repeatUntilShutdown(every: interval, logger: logger, failure: "OCSP responder renewal failed") {
            _ = try await ra.certificates.renewOCSPResponderIfDue()
        }
    }
}
