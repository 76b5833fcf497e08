import BizDirectCore
import Foundation
import Hummingbird

/// Reads `application/x-www-form-urlencoded` bodies within the size limit.
enum Forms {
    /// The form fields of `request`; a body over `limit` bytes is refused.
    static func fields(_ request: Request, limit: Int) async throws -> [String: String] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw BizDirectError.malformed("request.tooLarge", "The request is too large.")
        }
        return parse(String(buffer: buffer))
    }

    /// Decodes a JSON body of at most `limit` bytes (the configured `maximum-body-size`, the same
    /// limit as forms); too large is `request.tooLarge`, unreadable is `request.malformed`.
    static func json<Body: Decodable>(_ type: Body.Type, _ request: Request, limit: Int) async throws -> Body {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw BizDirectError.malformed("request.tooLarge", "The request is too large.")
        }
        do {
            return try JSONDecoder().decode(Body.self, from: Data(buffer.readableBytesView))
        } catch {
            throw BizDirectError.malformed("request.malformed", "The request could not be read.")
        }
    }

    /// Decodes an `application/x-www-form-urlencoded` body. Bad percent-escapes become empty
    /// values; a repeated name keeps its last value. Nothing here can trap (fuzzed: `form`).
    static func parse(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if let name = parts.first { fields[name] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }

    /// Whether a form's CSRF token matches the session's (compared in constant time).
    /// `SessionGate.requireCSRF` turns a mismatch into an audited refusal.
    static func csrfMatches(_ fields: [String: String], expected: String) -> Bool {
        !expected.isEmpty && ConstantTime.equal(Array((fields["csrf"] ?? "").utf8), Array(expected.utf8))
    }
}
