import Crypto
import Foundation
import SwiftASN1
import X509

/// OCSP requests for one certificate of an issuer, as a relying party makes them.
public enum OCSPRequests {
    /// The DER CertID (SHA-1, as openssl sends by default) for `serialHex` under the issuer `issuerDER`.
    public static func certID(serialHex: String, issuerDER: [UInt8]) throws -> [UInt8] {
        let issuer = try Certificate(derEncoded: issuerDER)
        var name = DER.Serializer()
        try name.serialize(issuer.subject)
        var serial = stride(from: 0, to: serialHex.count, by: 2).compactMap { offset -> UInt8? in
            let start = serialHex.index(serialHex.startIndex, offsetBy: offset)
            return UInt8(serialHex[start..<serialHex.index(start, offsetBy: 2)], radix: 16)
        }
        if let first = serial.first, first & 0x80 != 0 { serial.insert(0, at: 0) }
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize([1, 3, 14, 3, 2, 26] as ASN1ObjectIdentifier)
                coder.appendPrimitiveNode(identifier: .null) { _ in }
            }
            try coder.serialize(ASN1OctetString(contentBytes: Array(Insecure.SHA1.hash(data: name.serializedBytes))[...]))
            try coder.serialize(ASN1OctetString(contentBytes: Array(Insecure.SHA1.hash(data: issuer.publicKey.subjectPublicKeyInfoBytes))[...]))
            coder.appendPrimitiveNode(identifier: .integer) { $0.append(contentsOf: serial) }
        }
        return coder.serializedBytes
    }

    /// A DER OCSPRequest for one certificate, with no nonce.
    public static func make(serialHex: String, issuerDER: [UInt8]) throws -> [UInt8] {
        let id = try certID(serialHex: serialHex, issuerDER: issuerDER)
        func wrap(_ content: [UInt8]) -> [UInt8] {
            var coder = DER.Serializer()
            coder.appendConstructedNode(identifier: .sequence) { $0.serializeRawBytes(content[...]) }
            return coder.serializedBytes
        }
        return wrap(wrap(wrap(wrap(id))))   // OCSPRequest { TBSRequest { requestList { Request { CertID } } } }
    }

    /// The status a response gives right after `certID`: good, revoked or unknown.
    public static func status(in response: [UInt8], certID: [UInt8]) -> String {
        guard let range = response.firstRange(of: certID), range.upperBound < response.count else { return "absent" }
        switch response[range.upperBound] {
        case 0x80: return "good"
        case 0xA1: return "revoked"
        case 0x82: return "unknown"
        default: return "absent"
        }
    }
}
