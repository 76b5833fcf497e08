import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// The limits every listener puts on one connection, so that clients who send slowly, or
/// send too much, cannot hold the server (see docs/THREAT_MODEL.md, "Bounded resources").
public struct ConnectionLimits: Sendable {
    /// From accepting the connection to a complete request head, TLS handshake included.
    public var firstRequestDeadline: TimeAmount = .seconds(10)
    /// From the end of one response to the complete head of the next (keep-alive idle).
    public var keepAliveDeadline: TimeAmount = .seconds(30)
    /// From a request head to the end of its body.
    public var bodyDeadline: TimeAmount = .seconds(30)
    /// Open connections per listener; more wait in the kernel's backlog.
    public var maximumConnections: Int = 2_048
    /// Bytes of all header lines of one request (one field can be no larger).
    public var maximumHeaderBytes: Int = 16 * 1024
    /// Header fields in one request.
    public var maximumHeaderFields: Int = 100

    /// The defaults above.
    public init() {}
}

/// Closes a connection whose next request head (or body) does not arrive in time, however the
/// bytes trickle in, and answers a request whose headers are too large with 431.
///
/// It sits in the pipeline after the HTTP decoder, so its clock runs on whole request parts: a
/// client that sends one byte every few seconds still has to finish each head by its deadline.
/// The first deadline starts when the connection is set up, so it covers the TLS handshake too.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ConnectionLimits
    private var deadline: Scheduled<Void>?
    private var answeredError = false

    init(limits: ConnectionLimits) { self.limits = limits }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(limits.firstRequestDeadline, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(limits.bodyDeadline, context: context)
        case .body: break
        case .end: disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(limits.keepAliveDeadline, context: context) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The HTTP decoder refuses oversized or broken heads; say which, then close.
        guard let parserError = error as? HTTPParserError, !answeredError else {
            context.fireErrorCaught(error)
            return
        }
        answeredError = true
        let status: HTTPResponse.Status = switch parserError {
        case .headerOverflow: .requestHeaderFieldsTooLarge
        default: .badRequest
        }
        var head = HTTPResponse(status: status)
        head.headerFields[.connection] = "close"
        head.headerFields[.contentLength] = "0"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    private func arm(_ amount: TimeAmount, context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = context.eventLoop.scheduleTask(in: amount) { [weak self] in
            guard self != nil else { return }
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}

extension ConnectionLimits {
    /// The HTTP/1.1 channel configuration that applies these limits.
    var http1: HTTP1Channel.Configuration {
        let limits = self
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuardHandler(limits: limits)],
            idleTimeout: nil,
            httpDecoderConfiguration: .init(maxHeaderFieldSize: maximumHeaderBytes, maxHeaderListSize: maximumHeaderBytes,
                                            maxHeaderFieldCount: maximumHeaderFields))
    }
}
