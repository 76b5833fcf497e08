import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL

/// An HTTPS client that presents a client certificate (or none) and keeps cookies, like a browser.
public final class TestBrowser: @unchecked Sendable {
    private let client: HTTPClient
    /// Cookies by name.
    public var cookies: [String: String] = [:]

    /// A page as received.
    public struct Page: Sendable {
        /// HTTP status code.
        public let status: Int
        /// Response headers.
        public let headers: HTTPHeaders
        /// The body as text.
        public let body: String
        /// The value of a hidden form field, e.g. the CSRF token.
        public func field(_ name: String) -> String? {
            guard let range = body.range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(body[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    /// A browser trusting `rootPEM`, presenting `certificatePEM` + `keyPEM` when given.
    public init(rootPEM: String, certificatePEM: String? = nil, keyPEM: String? = nil) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(rootPEM.utf8)))
        if let certificatePEM, let keyPEM {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.connectionPool = .init(idleTimeout: .seconds(5), concurrentHTTP1ConnectionsPerHostSoftLimit: 4)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// GET `url`.
    public func get(_ url: String, headers: [(String, String)] = []) async throws -> Page {
        try await send(url, method: .GET, body: nil, headers: headers)
    }

    /// POST a form to `url`.
    public func post(_ url: String, form: [String: String]) async throws -> Page {
        let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await send(url, method: .POST, body: body, headers: [("Content-Type", "application/x-www-form-urlencoded")])
    }

    /// POST a JSON body to `url`, as the acquisition page's script does.
    public func postJSON(_ url: String, _ body: [String: Any]) async throws -> Page {
        let data = try JSONSerialization.data(withJSONObject: body)
        return try await send(url, method: .POST, body: String(decoding: data, as: UTF8.self), headers: [("Content-Type", "application/json")])
    }

    /// POST a raw form body to `url` (for paths spelled in odd ways).
    public func post(_ url: String, body: String) async throws -> Page {
        try await send(url, method: .POST, body: body, headers: [("Content-Type", "application/x-www-form-urlencoded")])
    }

    private func send(_ url: String, method: HTTPMethod, body: String?, headers: [(String, String)]) async throws -> Page {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if !cookies.isEmpty { request.headers.add(name: "Cookie", value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        for header in response.headers["Set-Cookie"] {
            let pair = header.split(separator: ";").first?.split(separator: "=", maxSplits: 1) ?? []
            if pair.count == 2 { cookies[String(pair[0])] = String(pair[1]) } else if pair.count == 1 { cookies[String(pair[0])] = "" }
            if header.contains("Max-Age=0"), let name = pair.first { cookies[String(name)] = nil }
        }
        let buffer = try await response.body.collect(upTo: 4 * 1024 * 1024)
        return Page(status: Int(response.status.code), headers: response.headers, body: String(buffer: buffer))
    }

    private var closed = false

    /// Closes connections.
    public func close() async {
        guard !closed else { return }
        closed = true
        try? await client.shutdown()
    }

    deinit {
        // A test that forgot close(): shut the client down in the background rather than trap.
        if !closed { client.shutdown { _ in } }
    }
}
