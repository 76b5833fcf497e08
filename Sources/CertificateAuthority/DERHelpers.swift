import BizDirectCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// Small DER helpers for the structures swift-certificates does not encode for us
/// (CRLs, OCSP responses, encrypted PKCS#8).
enum DERHelpers {
    /// Serialises `body` into a fresh DER buffer.
    static func encode(_ body: (inout DER.Serializer) throws -> Void) rethrows -> [UInt8] {
        var coder = DER.Serializer()
        try body(&coder)
        return coder.serializedBytes
    }

    /// AlgorithmIdentifier with absent parameters (as RFC 5758 requires for ECDSA).
    static func algorithmIdentifier(_ oid: ASN1ObjectIdentifier, into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { try $0.serialize(oid) }
    }

    /// One X.509 Extension.
    static func serialize(_ ext: Certificate.Extension, into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(ext.oid)
            if ext.critical { try coder.serialize(true) }
            try coder.serialize(ASN1OctetString(contentBytes: ext.value))
        }
    }

    /// A SEQUENCE OF Extension.
    static func serialize(_ exts: [Certificate.Extension], into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            for ext in exts { try serialize(ext, into: &coder) }
        }
    }

    /// A positive INTEGER from big-endian magnitude bytes.
    static func serializeUnsignedInteger(_ magnitude: ArraySlice<UInt8>, into coder: inout DER.Serializer) {
        var bytes = Array(magnitude.drop(while: { $0 == 0 }))
        if bytes.isEmpty { bytes = [0] }
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        coder.appendPrimitiveNode(identifier: .integer) { $0.append(contentsOf: bytes) }
    }

    /// RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050.
    static func serializeTime(_ date: Date, into coder: inout DER.Serializer) throws {
        let c = components(of: date)
        if c.year < 2050 {
            try coder.serialize(UTCTime(year: c.year, month: c.month, day: c.day, hours: c.hour, minutes: c.minute, seconds: c.second))
        } else {
            try coder.serialize(generalizedTime(date))
        }
    }

    /// A GeneralizedTime in whole seconds, UTC.
    static func generalizedTime(_ date: Date) throws -> GeneralizedTime {
        let c = components(of: date)
        return try GeneralizedTime(year: c.year, month: c.month, day: c.day, hours: c.hour, minutes: c.minute, seconds: c.second, fractionalSeconds: 0)
    }

    private static func components(of date: Date) -> CivilTime {
        CivilTime(date)
    }

    /// The DER SubjectPublicKeyInfo of a key.
    static func subjectPublicKeyInfo(_ key: Certificate.PublicKey) -> [UInt8] {
        (try? encode { try $0.serialize(key) }) ?? []
    }

    /// SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 key identifier method 1,
    /// and RFC 6960's KeyHash).
    static func keyIdentifier(_ key: Certificate.PublicKey) -> [UInt8] {
        Array(Insecure.SHA1.hash(data: key.subjectPublicKeyInfoBytes))
    }
}

/// Reading DER from outside without trapping: every missing or mistyped element becomes a
/// `BizDirectError.malformed` with a reason, never a force-unwrap. Every decoder of untrusted
/// DER (OCSP requests, PKCS#10 requests, encrypted key files) uses these.
enum DERReader {
    /// A refusal thrown from inside swift-asn1's throwing closures; callers rethrow it as is.
    static func refuse(_ reason: String, _ detail: String) -> BizDirectError {
        .malformed(reason, detail)
    }

    /// The next element of a SEQUENCE, or a refusal naming the element that is missing.
    static func required(_ nodes: inout ASN1NodeCollection.Iterator, _ name: String) throws -> ASN1Node {
        guard let node = nodes.next() else {
            throw ASN1Error.invalidASN1Object(reason: "missing \(name)")
        }
        return node
    }

    /// The children of a constructed SEQUENCE node.
    static func children(of node: ASN1Node?) throws -> [ASN1Node] {
        guard let node, node.identifier == .sequence, case .constructed(let nodes) = node.content else {
            throw ASN1Error.invalidASN1Object(reason: "expected a SEQUENCE")
        }
        return Array(nodes)
    }
}
