/// The one error type that crosses module boundaries.
///
/// `detail` is English text a customer may read; `reason` is a stable key the web front end
/// uses to show the message in the customer's language. Secrets and internals never go in
/// either: they belong in the log only.
public struct BizDirectError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The closed set of error kinds. Only the web front end maps them to HTTP statuses.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case malformed, unauthenticated, forbidden, locked, expired, revoked, notFound, conflict, unavailable, `internal`
    }

    /// What kind of failure this is.
    public let kind: Kind
    /// A stable, language-neutral key for the customer message, such as `csr.keyUnsupported`.
    public let reason: String
    /// Customer-readable English text (never a secret, never an internal description).
    public let detail: String
    /// Where the error was made, for the log.
    public let location: String

    /// Makes an error; prefer the factories, which capture the call site.
    public init(_ kind: Kind, reason: String, detail: String, fileID: String = #fileID, line: Int = #line) {
        self.kind = kind
        self.reason = reason
        self.detail = detail
        self.location = "\(fileID):\(line)"
    }

    public var description: String { "\(kind.rawValue)[\(reason)]: \(detail) (\(location))" }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.kind == rhs.kind && lhs.reason == rhs.reason
    }
}

extension BizDirectError {
    /// Input that cannot be understood or breaks a format rule.
    public static func malformed(_ reason: String, _ detail: String, fileID: String = #fileID, line: Int = #line) -> Self {
        .init(.malformed, reason: reason, detail: detail, fileID: fileID, line: line)
    }
    /// The caller could not be authenticated (wrong PIN, unknown ID: deliberately indistinguishable).
    public static func unauthenticated(_ reason: String, _ detail: String, fileID: String = #fileID, line: Int = #line) -> Self {
        .init(.unauthenticated, reason: reason, detail: detail, fileID: fileID, line: line)
    }
    /// The caller is known but may not do this.
    public static func forbidden(_ reason: String, _ detail: String, fileID: String = #fileID, line: Int = #line) -> Self {
        .init(.forbidden, reason: reason, detail: detail, fileID: fileID, line: line)
    }
    /// The service is locked for this person or contract.
    public static func locked(_ reason: String, _ detail: String, fileID: String = #fileID, line: Int = #line) -> Self {
        .init(.locked, reason: reason, detail: detail, fileID: fileID, line: line)
    }
    /// Something (a certificate, a window, a session) has expired.
    public static func expired(_ reason: String, _ detail: String, fileID: String = #fileID, line: Int = #line) -> Self {
        .init(.expired, reason: reason, detail: detail, fileID: fileID, line: line)
    }
    /// A certificate has been revoked.
    public static func revoked(_ reason: String, _ detail: String, fileID: String = #fileID, line: Int = #line) -> Self {
        .init(.revoked, reason: reason, detail: detail, fileID: fileID, line: line)
    }
    /// The thing asked for does not exist.
    public static func notFound(_ reason: String, _ detail: String, fileID: String = #fileID, line: Int = #line) -> Self {
        .init(.notFound, reason: reason, detail: detail, fileID: fileID, line: line)
    }
    /// The request clashes with the current state (duplicate, already done, changed meanwhile).
    public static func conflict(_ reason: String, _ detail: String, fileID: String = #fileID, line: Int = #line) -> Self {
        .init(.conflict, reason: reason, detail: detail, fileID: fileID, line: line)
    }
    /// A bounded resource is full (PIN hashing); the caller should retry shortly (HTTP 503, Retry-After).
    public static func unavailable(_ reason: String, _ detail: String, fileID: String = #fileID, line: Int = #line) -> Self {
        .init(.unavailable, reason: reason, detail: detail, fileID: fileID, line: line)
    }
    /// A fault of ours; the customer sees a generic page.
    public static func `internal`(_ reason: String, _ detail: String, fileID: String = #fileID, line: Int = #line) -> Self {
        .init(.internal, reason: reason, detail: detail, fileID: fileID, line: line)
    }
}
