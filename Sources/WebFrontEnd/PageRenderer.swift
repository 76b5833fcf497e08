import BizDirectCore
import Foundation
import Hummingbird
import Mustache

/// Renders pages from the Mustache templates with one base layout, in the chosen language.
public struct PageRenderer: Sendable {
    let library: MustacheLibrary
    /// Links between the listeners.
    let links: [String: String]

    /// Loads the templates shipped with the module.
    static func load(links: [String: String]) async throws -> PageRenderer {
        guard let directory = Bundle.module.url(forResource: "templates", withExtension: nil, subdirectory: "Resources") else {
            throw BizDirectError.internal("web.templates", "The page templates are missing from the build.")
        }
        return PageRenderer(library: try await MustacheLibrary(directory: directory.path), links: links)
    }

    /// A full HTML page. `values` fill the template; `t` holds the strings of `language`.
    func page(_ template: String, language: Language, status: HTTPResponse.Status = .ok, values: [String: Any] = [:]) -> Response {
        var object = values
        object["t"] = Strings.nested(language)
        object["links"] = links
        let html = library.render(object, withTemplate: template) ?? "<!doctype html><title>BizDirect</title>"
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A string with `{{date}}` filled in.
    static func fill(_ key: String, language: Language, date: Date?) -> String {
        let text = Strings.table(language)[key] ?? key
        guard let date else { return text }
        return text.replacingOccurrences(of: "{{date}}", with: format(date, language: language))
    }

    /// Dates in Japan time, as customers read them.
    static func format(_ date: Date, language: Language) -> String {
        JapanTime.text(date, language == .ja ? .japanese : .english)
    }
}

/// Turns every error into a page in the customer's language. Internals never reach the page.
struct ErrorPageMiddleware: RouterMiddleware {
    typealias Context = BizDirectRequestContext
    let renderer: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as BizDirectError {
            context.logger.notice("request refused", metadata: ["kind": "\(error.kind.rawValue)", "reason": "\(error.reason)", "at": "\(error.location)"])
            var page = errorPage(kind: error.kind, reason: error.reason, language: context.language,
                                 status: error.reason == "request.tooLarge" ? .contentTooLarge : nil)
            if error.kind == .unavailable { page.headers[.retryAfter] = "\(Self.retryAfterSeconds)" }
            return page
        } catch let error as HTTPError {
            let kind: BizDirectError.Kind = error.status == .notFound ? .notFound : .malformed
            return errorPage(kind: kind, reason: error.status == .contentTooLarge ? "request.tooLarge" : "-", language: context.language, status: error.status)
        } catch {
            context.logger.error("internal error", metadata: ["error": "\(String(reflecting: error))"])
            return errorPage(kind: .internal, reason: "-", language: context.language)
        }
    }

    func errorPage(kind: BizDirectError.Kind, reason: String, language: Language, status: HTTPResponse.Status? = nil) -> Response {
        renderer.page("error", language: language, status: status ?? Self.status(kind),
                      values: ["message": Strings.message(reason: reason, kind: kind, language)])
    }

    /// Seconds a client is asked to wait when a bounded resource is full.
    static let retryAfterSeconds = 2

    /// The one place that maps error kinds to HTTP statuses.
    static func status(_ kind: BizDirectError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .malformed: .badRequest
        case .unauthenticated, .expired: .unauthorized
        case .forbidden, .revoked: .forbidden
        case .locked: .init(code: 423, reasonPhrase: "Locked")
        case .notFound: .notFound
        case .conflict: .conflict
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }
}
