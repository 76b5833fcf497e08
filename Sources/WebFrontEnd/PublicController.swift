import Foundation
import Hummingbird

/// The public site: top page, help, static files. No client certificate is needed here.
struct PublicController {
    let renderer: PageRenderer
    /// The TLS CA customers are asked to trust, or nil when the TLS certificate is from outside.
    let tlsCAFingerprint: String?

    func register(on router: Router<BizDirectRequestContext>) {
        router.get("/") { _, context in renderer.page("top", language: context.language) }
        router.get("/help") { _, context in renderer.page("help", language: context.language, values: ["fingerprint": tlsCAFingerprint ?? ""]) }
        StaticFiles.register(on: router)
    }
}

/// Serves the CSS (and, later, scripts) shipped in the module's resources.
enum StaticFiles {
    static let types = ["css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"]

    static func register(on router: Router<BizDirectRequestContext>) {
        router.get("/static/:file") { _, context in
            let name = try context.parameters.require("file")
            let parts = name.split(separator: ".")
            guard parts.count == 2, parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), let type = types[String(parts[1])],
                  let url = Bundle.module.url(forResource: String(parts[0]), withExtension: String(parts[1]), subdirectory: "Resources/static"),
                  let data = FileManager.default.contents(atPath: url.path) else {
                throw HTTPError(.notFound)
            }
            return Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=3600"],
                            body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
