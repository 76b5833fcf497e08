import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP address (4 or 16 bytes), parsed from text with `inet_pton`: the only form in which
/// addresses from configuration, PROXY headers and `Forwarded` headers are compared.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address in network order; an IPv4-mapped IPv6 address is kept as its 4 IPv4 bytes.
    public let bytes: [UInt8]

    /// Parses dotted IPv4 or RFC 4291 IPv6 text (no brackets, no zone); nil otherwise.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let all = withUnsafeBytes(of: &v6) { Array($0) }
        bytes = all.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] ? Array(all.suffix(4)) : all
    }

    public init(rawBytes: [UInt8]) {
        bytes = rawBytes.count == 16 && rawBytes.prefix(12) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] ? Array(rawBytes.suffix(4)) : rawBytes
    }

    /// Dotted IPv4, or IPv6 as `inet_ntop` writes it.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let written = bytes.withUnsafeBytes { raw in
            buffer.withUnsafeMutableBufferPointer { inet_ntop(family, raw.baseAddress, $0.baseAddress, socklen_t($0.count)) }
        }
        guard written != nil else { return "-" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A trusted-proxy entry: one address, or a network in CIDR form (`10.0.0.0/8`, `fd00::/8`).
public struct AddressRange: Sendable, Equatable {
    let network: [UInt8]
    let prefixLength: Int

    /// Parses `ADDRESS` or `ADDRESS/PREFIX`; a bad entry names itself.
    public init(parsing text: String) throws(BizDirectError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = parts.first.flatMap({ IPAddress($0) }) else {
            throw .malformed("config.trustedProxy", "\(text) is not an IP address or CIDR network")
        }
        let maximum = address.bytes.count * 8
        let length = parts.count == 2 ? Int(parts[1]) : maximum
        guard let length, (0...maximum).contains(length) else {
            throw .malformed("config.trustedProxy", "\(text): the prefix length must be 0 to \(maximum)")
        }
        network = address.bytes
        prefixLength = length
    }

    /// Whether `address` lies in this range (IPv4 never matches an IPv6 range, nor the reverse).
    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.count else { return false }
        var remaining = prefixLength
        for (a, n) in zip(address.bytes, network) where remaining > 0 {
            let bits = min(remaining, 8)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            guard a & mask == n & mask else { return false }
            remaining -= bits
        }
        return true
    }
}

