import Hummingbird

/// The languages pages are offered in: Japanese first, English too.
public enum Language: String, Sendable, CaseIterable {
    case ja, en

    /// Chooses from `?lang=`, then the `lang` cookie, then Accept-Language; Japanese by default.
    static func choose(query: String?, cookie: String?, acceptLanguage: String?) -> Language {
        if let query, let language = Language(rawValue: query) { return language }
        if let cookie, let language = Language(rawValue: cookie) { return language }
        let preferences = (acceptLanguage ?? "").split(separator: ",").map { $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? "" }
        for preference in preferences {
            if preference.hasPrefix("ja") { return .ja }
            if preference.hasPrefix("en") { return .en }
        }
        return .ja
    }
}

/// Sets `context.language` and remembers an explicit choice in a cookie.
struct LanguageMiddleware: RouterMiddleware {
    typealias Context = BizDirectRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let query = request.uri.queryParameters["lang"].map(String.init)
        context.language = Language.choose(query: query, cookie: request.cookies["lang"]?.value,
                                           acceptLanguage: request.headers[.acceptLanguage])
        var response = try await next(request, context)
        if let query, Language(rawValue: query) != nil {
            response.setCookie(Cookie(name: "lang", value: query, maxAge: 365 * 86_400, path: "/", secure: true, httpOnly: true, sameSite: .lax))
        }
        return response
    }
}
