import BizDirectCore
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import Synchronization

/// The PROXY protocol header (HAProxy's specification, versions 1 and 2) that a TCP load balancer
/// sends before the TLS bytes, so that an instance behind it knows the client's address.
public enum ProxyHeader {
    /// What the first bytes of a connection hold.
    public enum Parsed: Equatable, Sendable {
        /// Not enough bytes yet to tell.
        case needMore
        /// A complete header of `length` bytes; `source` is nil for LOCAL / UNKNOWN (the proxy's
        /// own connection, such as a health check).
        case header(length: Int, source: IPAddress?)
    }

    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// Longest header accepted: a v1 line is at most 107 bytes; v2 address blocks with the TLVs a
    /// proxy may add stay far below this.
    static let maximumLength = 1024

    /// Parses the start of a connection. Throws on anything that is not a well-formed header.
    public static func parse(_ bytes: some Collection<UInt8>) throws(BizDirectError) -> Parsed {
        let bytes = Array(bytes.prefix(maximumLength + 1))
        guard let first = bytes.first else { return .needMore }
        if first == 0x0D { return try parseV2(bytes) }
        if first == UInt8(ascii: "P") { return try parseV1(bytes) }
        throw .malformed("proxy.header", "the connection did not start with a PROXY header")
    }

    private static func parseV2(_ bytes: [UInt8]) throws(BizDirectError) -> Parsed {
        let known = min(bytes.count, v2Signature.count)
        guard Array(bytes.prefix(known)) == Array(v2Signature.prefix(known)) else { throw .malformed("proxy.header", "bad v2 signature") }
        guard bytes.count >= 16 else { return .needMore }
        let versionCommand = bytes[12], family = bytes[13]
        let length = 16 + (Int(bytes[14]) << 8 | Int(bytes[15]))
        guard versionCommand >> 4 == 2, versionCommand & 0x0F <= 1 else { throw .malformed("proxy.header", "bad v2 version or command") }
        guard length <= maximumLength else { throw .malformed("proxy.header", "v2 header too long") }
        guard bytes.count >= length else { return .needMore }
        // LOCAL, or a family other than TCP over IPv4/IPv6: the connection is the proxy's own.
        guard versionCommand & 0x0F == 1, family == 0x11 || family == 0x21 else { return .header(length: length, source: nil) }
        let size = family == 0x11 ? 4 : 16
        guard length - 16 >= 2 * size + 4 else { throw .malformed("proxy.header", "v2 address block too short") }
        return .header(length: length, source: IPAddress(rawBytes: Array(bytes[16..<(16 + size)])))
    }

    private static func parseV1(_ bytes: [UInt8]) throws(BizDirectError) -> Parsed {
        let prefix = Array("PROXY ".utf8)
        let known = min(bytes.count, prefix.count)
        guard Array(bytes.prefix(known)) == Array(prefix.prefix(known)) else { throw .malformed("proxy.header", "bad v1 signature") }
        guard let end = bytes.firstIndex(of: 0x0A) else {
            guard bytes.count < 108 else { throw .malformed("proxy.header", "v1 line too long") }
            return .needMore
        }
        guard end < 107, end > 0, bytes[end - 1] == 0x0D else { throw .malformed("proxy.header", "v1 line not ended by CRLF") }
        let fields = String(decoding: bytes[prefix.count..<(end - 1)], as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false)
        if fields.first == "UNKNOWN" { return .header(length: end + 1, source: nil) }
        guard fields.count == 5, fields[0] == "TCP4" || fields[0] == "TCP6",
              let source = IPAddress(fields[1]), IPAddress(fields[2]) != nil,
              fields[0] == "TCP6" || source.bytes.count == 4,
              let sourcePort = UInt16(fields[3]), let destinationPort = UInt16(fields[4]), sourcePort > 0, destinationPort > 0 else {
            throw .malformed("proxy.header", "bad v1 fields")
        }
        return .header(length: end + 1, source: source)
    }
}

/// Reads the PROXY header at the start of a connection from a trusted proxy, keeps the client
/// address it names, and passes every later byte on unchanged (to TLS). A connection from any
/// other address is passed through untouched: its own address is the client's, and a PROXY
/// header from it fails the TLS handshake like any other garbage. A trusted peer that sends no
/// valid header is disconnected.
final class ProxyProtocolHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let trusted: [AddressRange]
    /// The client address the header named, once read (nil: not from a proxy, or LOCAL).
    let clientAddress = Mutex<IPAddress?>(nil)
    private var state: State = .undecided
    private var buffered: ByteBuffer?

    private enum State { case undecided, reading, passing }

    init(trusted: [AddressRange]) { self.trusted = trusted }

    func channelActive(context: ChannelHandlerContext) {
        decide(context: context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { decide(context: context) }
    }

    private func decide(context: ChannelHandlerContext) {
        guard state == .undecided else { return }
        let peer = context.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
        state = peer.map { peer in trusted.contains { $0.contains(peer) } } == true ? .reading : .passing
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if state == .undecided { decide(context: context) }
        guard state == .reading else { return context.fireChannelRead(data) }
        if var earlier = buffered {
            earlier.writeBuffer(&bytes)
            bytes = earlier
        }
        do {
            switch try ProxyHeader.parse(bytes.readableBytesView) {
            case .needMore:
                buffered = bytes
            case .header(let length, let source):
                buffered = nil
                state = .passing
                clientAddress.withLock { $0 = source }
                bytes.moveReaderIndex(forwardBy: length)
                if bytes.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(bytes)) }
            }
        } catch {
            context.close(promise: nil)
        }
    }
}

/// Puts `ProxyProtocolHandler` in front of a listener's channel (before TLS).
struct ProxyProtocolChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let trusted: [AddressRange]

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ProxyProtocolHandler(trusted: trusted), position: .first)
        }.flatMap { base.setup(channel: channel, logger: logger) }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ProxyProtocolChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1, over TLS when `tls` is given, accepting a PROXY header first from the `trusted`
    /// proxies when the list is not empty.
    static func bizDirect(http1: HTTP1Channel.Configuration, tls: TLSChannelConfiguration?, proxyProtocolFrom trusted: [AddressRange]) -> HTTPServerBuilder {
        .init { responder in
            let http = HTTP1Channel(responder: responder, configuration: http1)
            guard let tls else { return trusted.isEmpty ? http : ProxyProtocolChannel(base: http, trusted: trusted) }
            let secured = try TLSChannel(http, configuration: tls)
            return trusted.isEmpty ? secured : ProxyProtocolChannel(base: secured, trusted: trusted)
        }
    }
}

/// Sets the request's client address from the PROXY header its connection began with, before
/// anything (limits, audit, logs) reads it.
struct ProxiedClientAddressMiddleware: RouterMiddleware {
    typealias Context = BizDirectRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let handler = try? await context.channel.pipeline.handler(type: ProxyProtocolHandler.self).get(),
           let address = handler.clientAddress.withLock({ $0 }) {
            context.clientAddress = address.description
        }
        return try await next(request, context)
    }
}
