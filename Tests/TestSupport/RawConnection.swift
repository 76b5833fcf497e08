import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1 for tests that must misbehave below HTTP: send bytes
/// slowly, send oversized heads, or see whether the server closed the connection. Every call
/// is non-blocking or bounded by a timeout.
public final class RawConnection: @unchecked Sendable {
    private let socketFD: Int32

    /// Connects to 127.0.0.1:`port`, or nil.
    public init?(port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        let connected = withLoopback(port: port) { Glibc.connect(fd, $0, $1) }
        guard connected == 0 else {
            Glibc.close(fd)
            return nil
        }
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        socketFD = fd
    }

    deinit { Glibc.close(socketFD) }

    /// Sends `bytes`; false when the peer has closed.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(socketFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Reads what arrives within the receive timeout (15 s), up to `limit` bytes, until the peer
    /// closes. The blocking reads run on a thread of their own, never on Swift's cooperative pool,
    /// whose threads the in-process server needs to answer (see README, "Tests").
    public func readAll(limit: Int = 1 << 20) async -> [UInt8] {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.blockingReadAll(limit: limit)) }.start()
        }
    }

    private func blockingReadAll(limit: Int) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while result.count < limit {
            let count = buffer.withUnsafeMutableBytes { recv(socketFD, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            result.append(contentsOf: buffer[0..<count])
        }
        return result
    }

    /// Reads and drops whatever has already arrived, without waiting; returns how many bytes.
    @discardableResult
    public func drain() -> Int {
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socketFD, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard count > 0 else { return total }
            total += count
        }
    }

    /// True when the server has closed the connection (a read returns end of file or a reset) without waiting.
    public var isClosedByPeer: Bool {
        var byte: UInt8 = 0
        let count = recv(socketFD, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        if count == 0 { return true }
        if count < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
        return false
    }
}

/// A listening socket on 127.0.0.1 that holds a port, so a test can see what a server does when
/// its port is taken.
public final class RawListener: @unchecked Sendable {
    private let socketFD: Int32

    /// Binds and listens on 127.0.0.1:`port`, or nil.
    public init?(port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        let bound = withLoopback(port: port) { bind(fd, $0, $1) }
        guard bound == 0, listen(fd, 1) == 0 else {
            Glibc.close(fd)
            return nil
        }
        socketFD = fd
    }

    /// Releases the port.
    public func close() { Glibc.close(socketFD) }
}

/// Calls `body` with the socket address of 127.0.0.1:`port` and its length.
private func withLoopback(port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}
