import BizDirectCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// An RFC 6960 OCSP responder for the issuing CA, signing with its own delegated certificate.
///
/// Parsing and encoding are done with swift-asn1. Any request that cannot be parsed gets a
/// `malformedRequest` response, never an error.
public struct OCSPResponder: Sendable {
    /// A parsed OCSP request: the certificates asked about and the nonce to echo.
    public struct Query: Sendable {
        /// One `CertID` per single request.
        public let certIDs: [CertID]
        /// The nonce extension, echoed unchanged.
        let nonce: Certificate.Extension?

        /// Whether the request carries a nonce.
        public var hasNonce: Bool { nonce != nil }
        /// The same query, answered without echoing a nonce (RFC 8954 §2.1), so it can be cached.
        public var withoutNonce: Query { Query(certIDs: certIDs, nonce: nil) }
        /// The request's CertIDs as sent: the key under which a response may be cached.
        public var cacheKey: [UInt8] { certIDs.flatMap { Array($0.encoded) } }
    }

    /// A `CertID` from a request, kept verbatim so the response repeats it exactly.
    public struct CertID: Sendable {
        let hashAlgorithm: ASN1ObjectIdentifier
        let issuerNameHash: ArraySlice<UInt8>
        let issuerKeyHash: ArraySlice<UInt8>
        /// The serial as lowercase hex.
        public let serialHex: String
        let encoded: ArraySlice<UInt8>
    }

    static let sha1: ASN1ObjectIdentifier = [1, 3, 14, 3, 2, 26]
    static let sha256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 1]
    static let basicResponseOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 1]
    static let nonceOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 2]
    /// The DER of an OCSPResponse with status malformedRequest.
    public static let malformedResponse: [UInt8] = [0x30, 0x03, 0x0a, 0x01, 0x01]
    /// At most this many certificates are answered per request.
    static let maximumRequests = 20

    let responderCertificate: Certificate
    let signer: any Signer
    let lifetime: TimeInterval
    private let issuerHashes: [ASN1ObjectIdentifier: (name: [UInt8], key: [UInt8])]
    private let responderKeyHash: [UInt8]

    /// Makes a responder for certificates issued by `issuer`.
    public init(issuer: Certificate, responderCertificate: Certificate, signer: any Signer, lifetime: TimeInterval) {
        self.responderCertificate = responderCertificate
        self.signer = signer
        self.lifetime = lifetime
        let name = (try? DERHelpers.encode { try $0.serialize(issuer.subject) }) ?? []
        let key = issuer.publicKey.subjectPublicKeyInfoBytes
        issuerHashes = [
            Self.sha1: (Array(Insecure.SHA1.hash(data: name)), Array(Insecure.SHA1.hash(data: key))),
            Self.sha256: (Array(SHA256.hash(data: name)), Array(SHA256.hash(data: key))),
        ]
        responderKeyHash = DERHelpers.keyIdentifier(signer.publicKey)
    }

    /// A nonce longer than this is refused (RFC 8954 §2.1: 1 to 32 octets).
    public static let maximumNonceLength = 32
    /// Serial numbers are at most 20 octets (RFC 5280 §4.1.2.2), plus a sign octet.
    static let maximumSerialLength = 21

    /// Parses a DER OCSPRequest (RFC 6960 §4.1.1). Every refusal is `malformed` with a reason
    /// that names what is wrong; no input traps.
    public static func parse(_ der: [UInt8]) throws(BizDirectError) -> Query {
        let root: ASN1Node
        do {
            root = try DER.parse(der)
        } catch {
            throw .malformed("ocsp.notDER", "The OCSP request is not DER.")
        }
        do {
            return try DER.sequence(root, identifier: .sequence) { request in
                let query = try tbsRequest(try DERReader.required(&request, "tbsRequest"))
                // optionalSignature [0] EXPLICIT is allowed and not checked; nothing may follow it.
                if let signature = request.next() {
                    guard signature.identifier == .init(tagWithNumber: 0, tagClass: .contextSpecific) else {
                        throw DERReader.refuse("ocsp.structure", "The OCSP request has an unexpected element after the request list.")
                    }
                }
                return query
            }
        } catch let error as BizDirectError {
            throw error
        } catch {
            throw .malformed("ocsp.structure", "The OCSP request does not have the OCSPRequest structure.")
        }
    }

    private static func tbsRequest(_ node: ASN1Node) throws -> Query {
        try DER.sequence(node, identifier: .sequence) { tbs in
            let version = try DER.optionalExplicitlyTagged(&tbs, tagNumber: 0, tagClass: .contextSpecific) { try Int(derEncoded: $0) }
            guard version == nil || version == 0 else {
                throw DERReader.refuse("ocsp.version", "Only OCSP request version 1 is supported.")
            }
            _ = try DER.optionalExplicitlyTagged(&tbs, tagNumber: 1, tagClass: .contextSpecific) { $0 } // requestorName
            let list = try DERReader.children(of: try DERReader.required(&tbs, "requestList"))
            // The count is checked before any CertID is read, so thousands of them cost nothing.
            guard !list.isEmpty else { throw DERReader.refuse("ocsp.noRequests", "The OCSP request asks about no certificate.") }
            guard list.count <= maximumRequests else {
                throw DERReader.refuse("ocsp.tooManyRequests", "The OCSP request asks about more than \(maximumRequests) certificates.")
            }
            let ids = try list.map(singleRequest)
            let extensions = try DER.optionalExplicitlyTagged(&tbs, tagNumber: 2, tagClass: .contextSpecific) {
                try DERReader.children(of: $0).map(parseExtension)
            } ?? []
            guard Set(extensions.map(\.oid)).count == extensions.count else {
                throw DERReader.refuse("ocsp.duplicateExtension", "The OCSP request repeats an extension.")
            }
            let nonce = extensions.first { $0.oid == nonceOID }
            if let nonce { try checkNonce(nonce) }
            return Query(certIDs: ids, nonce: nonce)
        }
    }

    /// RFC 8954: the extension value is an OCTET STRING of 1 to 32 octets.
    private static func checkNonce(_ nonce: Certificate.Extension) throws {
        let value: ASN1OctetString
        do {
            value = try ASN1OctetString(derEncoded: nonce.value)
        } catch {
            throw DERReader.refuse("ocsp.nonceForm", "The OCSP nonce is not an OCTET STRING.")
        }
        guard (1...maximumNonceLength).contains(value.bytes.count) else {
            throw DERReader.refuse("ocsp.nonceLength", "The OCSP nonce must be 1 to \(maximumNonceLength) octets.")
        }
    }

    private static func singleRequest(_ node: ASN1Node) throws -> CertID {
        try DER.sequence(node, identifier: .sequence) { request in
            let idNode = try DERReader.required(&request, "reqCert")
            let id = try DER.sequence(idNode, identifier: .sequence) { id in
                let algorithm = try DER.sequence(try DERReader.required(&id, "hashAlgorithm"), identifier: .sequence) { parameters in
                    let oid = try ASN1ObjectIdentifier(derEncoded: &parameters)
                    if let parameter = parameters.next(), parameter.identifier != .null {
                        throw DERReader.refuse("ocsp.hashParameters", "The OCSP request's hash algorithm has unexpected parameters.")
                    }
                    return oid
                }
                let name = try ASN1OctetString(derEncoded: &id).bytes
                let key = try ASN1OctetString(derEncoded: &id).bytes
                let serial = try ArraySlice<UInt8>(derEncoded: &id)
                guard serial.count <= maximumSerialLength else {
                    throw DERReader.refuse("ocsp.serialLength", "The OCSP request names a serial number longer than 20 octets.")
                }
                return CertID(hashAlgorithm: algorithm, issuerNameHash: name, issuerKeyHash: key,
                              serialHex: SerialText.hex(serial), encoded: idNode.encodedBytes)
            }
            _ = try DER.optionalExplicitlyTagged(&request, tagNumber: 0, tagClass: .contextSpecific) { $0 } // singleRequestExtensions: ignored
            return id
        }
    }

    private static func parseExtension(_ node: ASN1Node) throws -> Certificate.Extension {
        try DER.sequence(node, identifier: .sequence) { ext in
            let oid = try ASN1ObjectIdentifier(derEncoded: &ext)
            var next = try DERReader.required(&ext, "extnValue")
            var critical = false
            if next.identifier == .boolean {
                critical = try Bool(derEncoded: next)
                next = try DERReader.required(&ext, "extnValue")
            }
            return Certificate.Extension(oid: oid, critical: critical, value: try ASN1OctetString(derEncoded: next).bytes)
        }
    }

    /// Whether `id` names a certificate of our issuing CA (hash algorithm, name and key hashes match).
    public func isOurs(_ id: CertID) -> Bool {
        guard let hashes = issuerHashes[id.hashAlgorithm] else { return false }
        return Array(id.issuerNameHash) == hashes.name && Array(id.issuerKeyHash) == hashes.key
    }

    /// A signed, successful OCSPResponse answering `query` with `statuses` (looked up by serial).
    public func respond(to query: Query, statuses: [String: CertificateStatus.State], now: Date) -> [UInt8] {
        do {
            let basic = try SignedStructure.wrap(tbs: try responseData(query, statuses: statuses, now: now),
                                                 signer: signer, certificates: [responderCertificate])
            return try DERHelpers.encode { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    coder.appendPrimitiveNode(identifier: .enumerated) { $0.append(0) } // successful
                    try coder.appendConstructedNode(identifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            try coder.serialize(Self.basicResponseOID)
                            try coder.serialize(ASN1OctetString(contentBytes: basic[...]))
                        }
                    }
                }
            }
        } catch {
            return [0x30, 0x03, 0x0a, 0x01, 0x02] // internalError
        }
    }

    private func responseData(_ query: Query, statuses: [String: CertificateStatus.State], now: Date) throws -> [UInt8] {
        let produced = try DERHelpers.generalizedTime(now)
        return try DERHelpers.encode { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.appendConstructedNode(identifier: .init(tagWithNumber: 2, tagClass: .contextSpecific)) { coder in
                    try coder.serialize(ASN1OctetString(contentBytes: responderKeyHash[...]))
                }
                try coder.serialize(produced)
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    for id in query.certIDs {
                        let state = isOurs(id) ? statuses[id.serialHex] ?? .unknown : .unknown
                        try singleResponse(id, state: state, now: now, into: &coder)
                    }
                }
                if let nonce = query.nonce {
                    try coder.appendConstructedNode(identifier: .init(tagWithNumber: 1, tagClass: .contextSpecific)) { coder in
                        try DERHelpers.serialize([Certificate.Extension(oid: nonce.oid, critical: false, value: nonce.value)], into: &coder)
                    }
                }
            }
        }
    }

    private func singleResponse(_ id: CertID, state: CertificateStatus.State, now: Date, into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            coder.serializeRawBytes(id.encoded)
            switch state {
            case .good:
                coder.appendPrimitiveNode(identifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) { _ in }
            case .revoked(let at, let reason):
                try coder.appendConstructedNode(identifier: .init(tagWithNumber: 1, tagClass: .contextSpecific)) { coder in
                    try coder.serialize(DERHelpers.generalizedTime(at))
                    try coder.appendConstructedNode(identifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                        coder.appendPrimitiveNode(identifier: .enumerated) { $0.append(UInt8(reason.rawValue)) }
                    }
                }
            case .unknown:
                coder.appendPrimitiveNode(identifier: .init(tagWithNumber: 2, tagClass: .contextSpecific)) { _ in }
            }
            try coder.serialize(DERHelpers.generalizedTime(now))
            try coder.appendConstructedNode(identifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) { coder in
                try coder.serialize(DERHelpers.generalizedTime(now.addingTimeInterval(lifetime)))
            }
        }
    }
}
