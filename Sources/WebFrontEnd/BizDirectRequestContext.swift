import BizDirectCore
import Hummingbird
import NIOCore
import NIOSSL

/// The request context of every BizDirect listener: Hummingbird's core storage plus the
/// channel (to read the TLS peer certificate), the client address and the chosen language.
public struct BizDirectRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection's channel.
    let channel: any Channel
    /// The client's IP address, for limits, logs and the audit chain: the peer's, or the one a
    /// trusted proxy named (`ProxiedClientAddressMiddleware`).
    public internal(set) var clientAddress: String
    /// The page language, set by `LanguageMiddleware`.
    public var language: Language = .ja
    /// The client certificate (DER), set by `PeerCertificateMiddleware` on the logon listener.
    public var peerCertificateDER: [UInt8]?
    /// Largest body accepted.
    public var maxUploadSize: Int { 256 * 1024 }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "-"
    }
}

/// Reads the client certificate the TLS handshake received, if any.
struct PeerCertificateMiddleware: RouterMiddleware {
    typealias Context = BizDirectRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let certificate = try await context.channel.nioSSL_peerCertificate().get() {
            context.peerCertificateDER = try certificate.toDERBytes()
        }
        return try await next(request, context)
    }
}
