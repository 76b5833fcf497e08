import Hummingbird
import HummingbirdCore
import HTTPTypes

/// Adds the security headers every BizDirect response carries.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = BizDirectRequestContext
    /// False on the plain-HTTP publication listener (HSTS means nothing there).
    let https: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if https { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        response.headers[.contentSecurityPolicy] = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY" // safe: a literal, valid token
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer" // safe: a literal, valid token
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
