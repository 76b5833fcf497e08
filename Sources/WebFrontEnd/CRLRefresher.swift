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
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return      // shutting down
            }
            do {
                _ = try await ra.certificates.currentCRL()
            } catch {
                logger.error("CRL refresh failed; the next tick tries again", metadata: ["error": "\(error)"])
            }
        }
    }
}
