import BizDirectCore
import Hummingbird
import RegistrationAuthority

/// Limits how often one client address may try secrets (PIN, card, acquisition), on top of the
/// per-person lock: it slows guessing across many IDs. Memory stays bounded.
actor AttemptLimiter {
    private var attempts: [String: [ContinuousClock.Instant]] = [:]
    let limit: Int
    let window: Duration = .seconds(60)
    /// Addresses tracked at most; the oldest are dropped beyond this.
    let capacity = 100_000

    init(limit: Int) { self.limit = limit }

    /// Records an attempt; false when the address is over its limit.
    func admit(_ address: String) -> Bool {
        let now = ContinuousClock.now
        var recent = (attempts[address] ?? []).filter { now - $0 < window }
        guard recent.count < limit else {
            attempts[address] = recent
            return false
        }
        recent.append(now)
        attempts[address] = recent
        if attempts.count > capacity { attempts = attempts.filter { now - ($0.value.last ?? now) < window } }
        return true
    }
}

/// The limiter on the routes declared in a controller's `secrets` group (every route that checks
/// a PIN, a card or a confirmation PIN). It runs after routing, so it sees the matched route
/// (`/admin/users/{user}`), whatever the spelling of the path (extra slashes, escapes); one
/// bucket per client address covers all of them. Refusals are logged, not audited.
struct AttemptLimitMiddleware: RouterMiddleware {
    typealias Context = BizDirectRequestContext
    let limiter: AttemptLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard await limiter.admit(context.clientAddress) else {
            // A rate-limit refusal decides nothing about a person, and anyone can cause any number
            // of them: it goes to the log, never to the audit chain.
            context.logger.notice("rate limit", metadata: ["route": "\(context.endpointPath ?? "-")", "client": "\(context.clientAddress)"])
            throw BizDirectError.locked("request.tooMany", "Too many attempts from this address. Wait a minute and try again.")
        }
        return try await next(request, context)
    }
}
