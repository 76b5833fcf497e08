import BizDirectCore
import Foundation

/// A certificate the CA has just signed, with the facts the store keeps about it.
public struct IssuedCertificate: Sendable {
    /// The DER encoding.
    public let der: [UInt8]
    /// The serial number as lowercase hex, without leading zeros.
    public let serialHex: String
    /// Start of validity.
    public let notBefore: Date
    /// End of validity.
    public let notAfter: Date
    /// SHA-256 of the SubjectPublicKeyInfo.
    public let spkiHash: [UInt8]

    /// The certificate as PEM.
    public var pem: String { PEMText.encode(der, label: "CERTIFICATE") }
}

/// RFC 5280 revocation reasons (CRLReason).
public enum RevocationReason: Int, Sendable, CaseIterable, Codable {
    case unspecified = 0, keyCompromise = 1, caCompromise = 2, affiliationChanged = 3, superseded = 4
    case cessationOfOperation = 5, certificateHold = 6, removeFromCRL = 8, privilegeWithdrawn = 9, aaCompromise = 10
}

/// What the responder and the CRL need to know of one certificate.
public struct CertificateStatus: Sendable, Equatable {
    /// Good, revoked (with time and reason) or unknown to us.
    public enum State: Sendable, Equatable {
        case good
        case revoked(at: Date, reason: RevocationReason)
        case unknown
    }
    /// The serial as lowercase hex.
    public let serialHex: String
    /// Its state.
    public let state: State

    /// Makes a status.
    public init(serialHex: String, state: State) {
        self.serialHex = serialHex
        self.state = state
    }
}

/// Serial numbers as hex text.
public enum SerialText {

    /// Lowercase hex of big-endian bytes, without leading zeros.
    public static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let trimmed = Hex.encode(bytes).drop(while: { $0 == "0" })
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    /// Bytes from hex text (an odd length gets a leading zero).
    public static func bytes(_ hex: String) -> [UInt8] {
        let padded = hex.count % 2 == 1 ? "0" + hex : hex
        var result: [UInt8] = []
        var index = padded.startIndex
        while index < padded.endIndex {
            let next = padded.index(index, offsetBy: 2)
            result.append(UInt8(padded[index..<next], radix: 16) ?? 0)
            index = next
        }
        return result
    }
}
