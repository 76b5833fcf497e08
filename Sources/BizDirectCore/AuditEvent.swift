/// One security decision, as it goes into the audit chain.
public struct AuditEvent: Sendable, Equatable {
    /// Allowed or denied, and why.
    public enum Outcome: Sendable, Equatable {
        case allowed
        case denied(String)

        /// The text stored in the chain.
        public var text: String {
            switch self {
            case .allowed: "allowed"
            case .denied(let reason): "denied:\(reason)"
            }
        }
    }

    /// Who acted: "admin:12345678901", "user:12345678901/taro01", "staff:S0001", "system", or "anonymous".
    public var actor: String
    /// What was attempted, e.g. "certificate.issue".
    public var action: String
    /// What it was done to.
    public var target: String
    /// What was decided.
    public var outcome: Outcome
    /// The client's IP address, or "-".
    public var clientAddress: String
    /// The serial of the client certificate presented, or "-".
    public var certificateSerial: String

    /// Fields taken from a request (paths, names, IDs) are cut to this many characters, so a
    /// hostile request cannot make one audit row large.
    public static let maximumFieldLength = 200

    /// Makes an event; every text field is cut to `maximumFieldLength` characters, with "…" when cut.
    public init(actor: String, action: String, target: String, outcome: Outcome, clientAddress: String = "-", certificateSerial: String = "-") {
        self.actor = Self.bounded(actor)
        self.action = Self.bounded(action)
        self.target = Self.bounded(target)
        self.outcome = switch outcome {
        case .allowed: .allowed
        case .denied(let reason): .denied(Self.bounded(reason))
        }
        self.clientAddress = Self.bounded(clientAddress)
        self.certificateSerial = Self.bounded(certificateSerial)
    }

    /// `text`, or its first `maximumFieldLength - 1` characters and "…".
    public static func bounded(_ text: String) -> String {
        text.count <= maximumFieldLength ? text : String(text.prefix(maximumFieldLength - 1)) + "…"
    }
}

/// A chain head written down off the host (`bizdirect audit head`): the chain alone cannot show a
/// rewrite of all of it, but a rewrite changes the hash of every event an anchor names.
public struct AuditAnchor: Sendable, Equatable, CustomStringConvertible {
    /// The event's sequence number.
    public let seq: Int
    /// Its hash, 64 hex digits.
    public let hash: String

    /// Makes an anchor.
    public init(seq: Int, hash: String) {
        self.seq = seq
        self.hash = hash
    }

    /// Reads "SEQ:HASH", as `bizdirect audit head` prints it.
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let seq = Int(parts[0]), seq > 0, parts[1].count == 64,
              parts[1].allSatisfy({ $0.isHexDigit }) else { return nil }
        self.init(seq: seq, hash: parts[1].lowercased())
    }

    /// "SEQ:HASH".
    public var description: String { "\(seq):\(hash)" }
}
