import BizDirectCore
import Hummingbird
import RegistrationAuthority

/// The per-address limit on the routes declared in a controller's `secrets` group (every route
/// that checks a PIN, a card or a confirmation PIN). It runs after routing, so it sees the matched
/// route (`/admin/users/{user}`), whatever the spelling of the path (extra slashes, escapes); one
/// count per client address covers all of them. The count is kept in the database
/// (`SessionService.admitSecretAttempt`), so it holds across every instance behind the load
/// balancer. Refusals are logged, not audited.
struct AttemptLimitMiddleware: RouterMiddleware {
    typealias Context = BizDirectRequestContext
    let sessions: SessionService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard try await sessions.admitSecretAttempt(from: context.clientAddress) else {
            // A rate-limit refusal decides nothing about a person, and anyone can cause any number
            // of them: it goes to the log, never to the audit chain.
            context.logger.notice("rate limit", metadata: ["route": "\(context.endpointPath ?? "-")", "client": "\(context.clientAddress)"])
            throw BizDirectError.locked("request.tooMany", "Too many attempts from this address. Wait a minute and try again.")
        }
        return try await next(request, context)
    }
}
