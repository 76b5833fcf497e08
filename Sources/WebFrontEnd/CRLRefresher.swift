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
