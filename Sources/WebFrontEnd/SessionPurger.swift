import Logging
import RegistrationAuthority
import ServiceLifecycle

/// Deletes sessions that ended, went idle or passed the absolute timeout, and old rate buckets,
/// every five minutes. (Each request also checks its own session's timeouts; this only keeps
/// the table small.)
struct SessionPurger: Service {
    let ra: RegistrationAuthority
    let logger: Logger
    var interval: Duration = .seconds(300)

    func run() async throws {
        await Self.repeatUntilShutdown(every: interval, logger: logger, failure: "session purge failed") {
            let longest = max(ra.configuration.userIdleTimeout, ra.configuration.staffIdleTimeout)
            let purged = try await ra.sessions.purge(longestIdleTimeout: longest)
            if purged > 0 { logger.info("sessions purged", metadata: ["count": "\(purged)"]) }
        }
    }
}
