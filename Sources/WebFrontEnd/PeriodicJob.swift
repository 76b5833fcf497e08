import Logging
import RegistrationAuthority
import ServiceLifecycle

/// The server's background work: each job runs every `interval` until graceful shutdown; a failed
/// run is logged and the next tick tries again.
struct PeriodicJob: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    /// Whether the first run happens at start rather than one interval later.
    var runsAtStart = false
    let work: @Sendable () async throws -> Void

    func run() async throws {
        if runsAtStart { await tick() }
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return      // shutting down
            }
            await tick()
        }
    }

    private func tick() async {
        do {
            try await work()
        } catch {
            logger.error("\(name) failed; the next tick tries again", metadata: ["error": "\(error)"])
        }
    }

    /// Keeps the published CRL fresh without waiting for a relying party to ask: each tick asks
    /// for the current CRL, which is re-made once half its lifetime has passed (re-making it also
    /// revokes renewed certificates that ran out unused, see `CertificateService.publishCRL`).
    /// Looks at start (a new installation is not ready until its first CRL is stored), then every
    /// sixteenth of the CRL's lifetime, between 1 second and 10 minutes. Several instances on one
    /// database publish each refresh once (`CertificateService.currentCRL`).
    static func crlRefresh(_ ra: RegistrationAuthority, logger: Logger) -> PeriodicJob {
        PeriodicJob(name: "CRL refresh", interval: .seconds(min(max(ra.configuration.crlLifetime / 16, 1), 600)), logger: logger,
                    runsAtStart: true) {
            _ = try await ra.certificates.currentCRL()
        }
    }

    /// Renews the OCSP responder certificate while the server runs, once a third of its short
    /// life is left (`CertificateService.renewOCSPResponderIfDue`), so that a server that runs
    /// for months never answers with an expired responder. Looks every 1/720 of the responder's
    /// lifetime (an hour for the default 30 days), between 1 second and 1 hour.
    static func ocspResponderRenewal(_ ra: RegistrationAuthority, logger: Logger) -> PeriodicJob {
        PeriodicJob(name: "OCSP responder renewal", interval: .seconds(min(max(ra.configuration.ocspResponderLifetime / 720, 1), 3600)),
                    logger: logger) {
            _ = try await ra.certificates.renewOCSPResponderIfDue()
        }
    }

    /// Deletes sessions that ended, went idle or passed the absolute timeout, and old rate
    /// buckets, every five minutes across all instances: each instance looks every minute, and
    /// the one that claims the due run does it. (Each request also checks its own session's
    /// timeouts; this only keeps the table small.)
    static func sessionPurge(_ ra: RegistrationAuthority, logger: Logger) -> PeriodicJob {
        PeriodicJob(name: "session purge", interval: .seconds(60), logger: logger) {
            let longest = max(ra.configuration.userIdleTimeout, ra.configuration.staffIdleTimeout)
            if let purged = try await ra.sessions.purge(longestIdleTimeout: longest, every: 300), purged > 0 {
                logger.info("sessions purged", metadata: ["count": "\(purged)"])
            }
        }
    }
}
