import BizDirectCore
import Foundation
import SwiftASN1
import X509

/// One entry of a CRL.
public struct RevokedEntry: Sendable, Equatable {
    /// Serial as lowercase hex.
    public let serialHex: String
    /// When it was revoked.
    public let revokedAt: Date
    /// Why.
    public let reason: RevocationReason

    /// Makes an entry.
    public init(serialHex: String, revokedAt: Date, reason: RevocationReason) {
        self.serialHex = serialHex
        self.revokedAt = revokedAt
        self.reason = reason
    }
}

/// Encodes and signs X.509 v2 CRLs (RFC 5280 §5) for the issuing CA.
public struct CRLBuilder: Sendable {
    let issuer: Certificate
    let signer: any Signer
    /// How long each CRL is valid.
    public let lifetime: TimeInterval

    /// Makes a builder for `issuer`'s CRLs, valid for `lifetime` seconds each.
    public init(issuer: Certificate, signer: any Signer, lifetime: TimeInterval) {
        self.issuer = issuer
        self.signer = signer
        self.lifetime = lifetime
    }

    /// A signed DER CRL with `number`, listing `entries`.
    public func make(number: Int, entries: [RevokedEntry], now: Date) throws(BizDirectError) -> [UInt8] {
        do {
            let tbs = try DERHelpers.encode { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.serialize(1)                              // v2
                    try DERHelpers.algorithmIdentifier(signer.signatureAlgorithmOID, into: &coder)
                    try coder.serialize(issuer.subject)
                    try DERHelpers.serializeTime(now, into: &coder)
                    try DERHelpers.serializeTime(now.addingTimeInterval(lifetime), into: &coder)
                    if !entries.isEmpty {
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            for entry in entries { try serialize(entry, into: &coder) }
                        }
                    }
                    try coder.appendConstructedNode(identifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                        try DERHelpers.serialize(try crlExtensions(number: number), into: &coder)
                    }
                }
            }
            return try SignedStructure.wrap(tbs: tbs, signer: signer)
        } catch {
            throw .internal("ca.crlFailed", "The CRL could not be made.")
        }
    }

    private func serialize(_ entry: RevokedEntry, into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            DERHelpers.serializeUnsignedInteger(SerialText.bytes(entry.serialHex)[...], into: &coder)
            try DERHelpers.serializeTime(entry.revokedAt, into: &coder)
            // RFC 5280 §5.3.1: reasonCode unspecified SHOULD be absent.
            if entry.reason != .unspecified {
                let value = DERHelpers.encode { coder in
                    coder.appendPrimitiveNode(identifier: .enumerated) { $0.append(UInt8(entry.reason.rawValue)) }
                }
                try DERHelpers.serialize([Certificate.Extension(oid: [2, 5, 29, 21], critical: false, value: value[...])], into: &coder)
            }
        }
    }

    private func crlExtensions(number: Int) throws -> [Certificate.Extension] {
        let aki = try Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: DERHelpers.keyIdentifier(signer.publicKey)[...]), critical: false)
        let numberValue = try DERHelpers.encode { try $0.serialize(number) }
        return [aki, Certificate.Extension(oid: [2, 5, 29, 20], critical: false, value: numberValue[...])]
    }
}

/// SEQUENCE { tbs, signatureAlgorithm, signature BIT STRING } — the shape shared by CRLs
/// and BasicOCSPResponse (which may append certificates).
enum SignedStructure {
    static func wrap(tbs: [UInt8], signer: any Signer, certificates: [Certificate] = []) throws -> [UInt8] {
        let signature = try signer.sign(tbs)
        return try DERHelpers.encode { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                coder.serializeRawBytes(tbs)
                try DERHelpers.algorithmIdentifier(signer.signatureAlgorithmOID, into: &coder)
                try coder.serialize(ASN1BitString(bytes: signature[...]))
                if !certificates.isEmpty {
                    try coder.appendConstructedNode(identifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            for certificate in certificates { try coder.serialize(certificate) }
                        }
                    }
                }
            }
        }
    }
}
