import BizDirectCore
import Foundation
import Hummingbird
import HTTPTypes
import RegistrationAuthority

/// Reads what a TLS-terminating reverse proxy forwards: the client certificate (RFC 9440
/// `Client-Cert`, optionally `Client-Cert-Chain`) and the client's address (`Forwarded`,
/// RFC 7239, or `X-Forwarded-For`). Pure functions; `ReverseProxyMiddleware` applies them.
public enum ForwardedCertificate {
    /// Longest header value accepted (a P-256 certificate is well under 1 KiB as DER).
    static let maximumValue = 16 * 1024

    /// The DER certificate in a `Client-Cert` value: an RFC 8941 sf-binary of the DER
    /// (`:BASE64:`, as HAProxy's `:%[ssl_c_der,base64]:` makes it), or the URL-escaped PEM that
    /// nginx's `$ssl_client_escaped_cert` gives (nginx cannot make base64 DER). Anything else
    /// throws.
    public static func certificate(_ value: String) throws(BizDirectError) -> [UInt8] {
        let value = value.trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty, value.utf8.count <= maximumValue else { throw refused("empty or oversized Client-Cert") }
        if value.hasPrefix(":") { return try binary(value) }
        guard let pem = value.removingPercentEncoding, pem.hasPrefix("-----BEGIN CERTIFICATE-----"),
              let end = pem.range(of: "-----END CERTIFICATE-----") else {
            throw refused("Client-Cert is neither an sf-binary nor an escaped PEM certificate")
        }
        let body = pem[pem.index(pem.startIndex, offsetBy: 27)..<end.lowerBound].filter { !$0.isWhitespace }
        guard pem[end.upperBound...].allSatisfy(\.isWhitespace), let der = Data(base64Encoded: String(body)), !der.isEmpty else {
            throw refused("Client-Cert PEM does not decode")
        }
        return Array(der)
    }

    /// Checks a `Client-Cert-Chain` value (an sf-list of sf-binaries) and returns its certificates.
    /// BizDirect's client certificates are issued straight by the issuing CA, so the chain is not
    /// needed; a malformed one is still refused, never ignored.
    public static func chain(_ value: String) throws(BizDirectError) -> [[UInt8]] {
        guard value.utf8.count <= 4 * maximumValue else { throw refused("oversized Client-Cert-Chain") }
        var certificates: [[UInt8]] = []
        for member in value.split(separator: ",", omittingEmptySubsequences: false) {
            certificates.append(try binary(member.trimmingCharacters(in: .whitespaces)))
        }
        guard (1...10).contains(certificates.count) else { throw refused("Client-Cert-Chain with \(certificates.count) members") }
        return certificates
    }

    /// An sf-binary: `:` base64 `:`, with nothing else (RFC 8941 §3.3.5).
    static func binary(_ item: String) throws(BizDirectError) -> [UInt8] {
        guard item.count >= 3, item.first == ":", item.last == ":" else { throw refused("not an sf-binary") }
        let inner = item.dropFirst().dropLast()
        guard inner.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/" || $0 == "=") }),
              let data = Data(base64Encoded: String(inner)), !data.isEmpty else {
            throw refused("sf-binary does not decode")
        }
        return Array(data)
    }

    /// The client's address from the forwarding headers of a request that came from a trusted
    /// proxy: the right-most address that is not itself a trusted proxy (each proxy appends the
    /// address it saw, so anything to the left of that may be the client's own invention).
    /// `Forwarded` wins over `X-Forwarded-For`; nil when neither names an address.
    public static func clientAddress(forwarded: [String], xForwardedFor: [String], trusted: [AddressRange]) -> IPAddress? {
        func rightmostUntrusted(_ addresses: [IPAddress]) -> IPAddress? {
            addresses.last { address in !trusted.contains { $0.contains(address) } } ?? addresses.first
        }
        let fromForwarded = forwarded.flatMap { $0.split(separator: ",") }.compactMap { element -> IPAddress? in
            for pair in element.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else { continue }
                var node = parts[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                if node.hasPrefix("[") {                                     // "[2001:db8::1]:4711"
                    node = String(node.dropFirst().prefix { $0 != "]" })
                } else if node.filter({ $0 == ":" }).count == 1 {           // "192.0.2.60:4711"
                    node = String(node.prefix { $0 != ":" })
                }
                return IPAddress(node)
            }
            return nil
        }
        if let address = rightmostUntrusted(fromForwarded) { return address }
        let fromXFF = xForwardedFor.flatMap { $0.split(separator: ",") }.compactMap { IPAddress($0.trimmingCharacters(in: .whitespaces)) }
        return rightmostUntrusted(fromXFF)
    }

    static func refused(_ detail: String) -> BizDirectError {
        .malformed("proxy.forwardedHeader", detail)
    }
}

/// The reverse-proxy listener's first middleware. A request from a trusted proxy gets the client
/// certificate from its single `Client-Cert` header and the client's address from `Forwarded` /
/// `X-Forwarded-For`; everything after it (the RA's issuer, record and revocation checks, the
/// session's certificate binding) treats that certificate exactly as one presented in TLS. A
/// request from anywhere else that carries any of these headers, or a trusted one with a
/// duplicate or unparsable header, is refused with 400 and audited.
struct ReverseProxyMiddleware<Audit: RefusalAuditing>: RouterMiddleware {
    typealias Context = BizDirectRequestContext
    let trusted: [AddressRange]
    let audit: Audit

    static var clientCert: HTTPField.Name { HTTPField.Name("Client-Cert")! }            // safe: a literal, valid token
    static var clientCertChain: HTTPField.Name { HTTPField.Name("Client-Cert-Chain")! } // safe: a literal, valid token
    static var forwarded: HTTPField.Name { HTTPField.Name("Forwarded")! }               // safe: a literal, valid token
    static var xForwardedFor: HTTPField.Name { HTTPField.Name("X-Forwarded-For")! }     // safe: a literal, valid token

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let headers = request.headers
        let names = [Self.clientCert, Self.clientCertChain, Self.forwarded, Self.xForwardedFor]
        let peer = IPAddress(context.clientAddress)
        guard let peer, trusted.contains(where: { $0.contains(peer) }) else {
            guard !names.contains(where: { headers[$0] != nil }) else {
                return try await refuse("proxy.untrusted", "forwarding headers from an address that is not a trusted proxy", context)
            }
            return try await next(request, context)
        }
        let certificates = headers[values: Self.clientCert]
        guard certificates.count <= 1 else { return try await refuse("proxy.duplicate", "more than one Client-Cert header", context) }
        let chains = headers[values: Self.clientCertChain]
        guard chains.count <= 1, chains.isEmpty || certificates.count == 1 else {
            return try await refuse("proxy.duplicate", "a duplicate Client-Cert-Chain, or one without Client-Cert", context)
        }
        let parsed: Result<[UInt8]?, BizDirectError>
        do throws(BizDirectError) {
            if let chain = chains.first { _ = try ForwardedCertificate.chain(chain) }
            parsed = .success(try certificates.first.map { value throws(BizDirectError) in try ForwardedCertificate.certificate(value) })
        } catch {
            parsed = .failure(error)
        }
        switch parsed {
        case .success(let der): context.peerCertificateDER = der
        case .failure(let error): return try await refuse("proxy.unparsable", error.detail, context)
        }
        if let client = ForwardedCertificate.clientAddress(forwarded: headers[values: Self.forwarded],
                                                           xForwardedFor: headers[values: Self.xForwardedFor], trusted: trusted) {
            context.clientAddress = client.description
        }
        var response = try await next(request, context)
        // Every answer here may depend on the certificate: no cache (the proxy's included) keeps it.
        response.headers[.cacheControl] = "no-store"
        return response
    }

    private func refuse(_ reason: String, _ detail: String, _ context: Context) async throws -> Response {
        try await audit.auditRefusedForwarding(reason: reason, clientAddress: context.clientAddress)
        context.logger.notice("forwarding headers refused", metadata: ["reason": "\(reason)", "detail": "\(detail)"])
        throw BizDirectError.malformed(reason, "The request was refused.")
    }
}

/// What the reverse-proxy listener asks of the RA: to record a refused forwarding header.
protocol RefusalAuditing: Sendable {
    /// Appends one denied `proxy.forwardedHeader` event naming `reason`.
    func auditRefusedForwarding(reason: String, clientAddress: String) async throws
}

extension RegistrationAuthority: RefusalAuditing {
    func auditRefusedForwarding(reason: String, clientAddress: String) async throws {
        try await audit(AuditEvent(actor: "anonymous", action: "proxy.forwardedHeader", target: "-", outcome: .denied(reason), clientAddress: clientAddress))
    }
}
