import BizDirectCore
@testable import CertificateAuthority
import Foundation
import SwiftASN1
import Testing

/// Files of a fixture folder, named `EXPECTED--what.ext`.
enum HostileCorpus {
    static func files(_ folder: String) -> [String] {
        guard let url = Bundle.module.url(forResource: "Fixtures/\(folder)", withExtension: nil),
              let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { return [] }
        return names.filter { $0.contains("--") }.sorted()
    }

    static func bytes(_ folder: String, _ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(folder)", withExtension: nil))
        return try [UInt8](Data(contentsOf: url.appendingPathComponent(name)))
    }

    static func expected(_ name: String) -> String { String(name.split(separator: "-", maxSplits: 1)[0]) }
}

/// Builds OCSP requests for the malformed-input cases.
enum OCSPRequestBytes {
    static let sha1: ASN1ObjectIdentifier = [1, 3, 14, 3, 2, 26]

    static func make(certIDs: Int, nonce: [UInt8]? = nil, version: Int? = nil, serial: [UInt8] = [0x01]) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                if let version {
                    try coder.appendConstructedNode(identifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) { try $0.serialize(version) }
                }
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    for _ in 0..<certIDs {
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            try coder.appendConstructedNode(identifier: .sequence) { coder in
                                try coder.appendConstructedNode(identifier: .sequence) { try $0.serialize(sha1) }
                                try coder.serialize(ASN1OctetString(contentBytes: Array(repeating: 0, count: 20)[...]))
                                try coder.serialize(ASN1OctetString(contentBytes: Array(repeating: 0, count: 20)[...]))
                                coder.appendPrimitiveNode(identifier: .integer) { $0.append(contentsOf: serial) }
                            }
                        }
                    }
                }
                if let nonce {
                    try coder.appendConstructedNode(identifier: .init(tagWithNumber: 2, tagClass: .contextSpecific)) { coder in
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            try coder.appendConstructedNode(identifier: .sequence) { coder in
                                try coder.serialize([1, 3, 6, 1, 5, 5, 7, 48, 1, 2] as ASN1ObjectIdentifier)
                                var inner = DER.Serializer()
                                try inner.serialize(ASN1OctetString(contentBytes: nonce[...]))
                                try coder.serialize(ASN1OctetString(contentBytes: inner.serializedBytes[...]))
                            }
                        }
                    }
                }
            }
        }
        return coder.serializedBytes
    }
}

@Suite("Hostile input: OCSP requests")
struct OCSPHostileInputTests {
    static func reason(_ bytes: [UInt8]) -> String {
        do {
            _ = try OCSPResponder.parse(bytes)
            return "accepted"
        } catch {
            return error.reason
        }
    }

    @Test("each input that trapped the old parser is refused with its reason", arguments: HostileCorpus.files("ocsp"))
    func regressionCorpus(_ name: String) throws {
        #expect(Self.reason(try HostileCorpus.bytes("ocsp", name)) == HostileCorpus.expected(name))
    }

    @Test("the two bytes 30 00, and GET /ocsp/MAA=, are refused, not a trap")
    func emptySequence() {
        #expect(Self.reason([0x30, 0x00]) == "ocsp.structure")
        #expect(Data(base64Encoded: "MAA=").map { Self.reason(Array($0)) } == "ocsp.structure")
    }

    @Test("malformed encodings name their fault", arguments: [
        ([UInt8](), "ocsp.notDER"),
        ([0x30, 0x05, 0x30, 0x03], "ocsp.notDER"),                         // truncated
        ([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00], "ocsp.notDER"),        // huge length
        ([0x30, 0x80, 0x00, 0x00], "ocsp.notDER"),                          // BER indefinite length
        ([0x31, 0x00], "ocsp.structure"),                                   // wrong tag
        ([0x30, 0x02, 0x30, 0x00], "ocsp.structure"),                       // nested empty
        ([0x30, 0x04, 0x30, 0x02, 0x30, 0x00], "ocsp.noRequests"),          // an empty request list
    ] as [([UInt8], String)])
    func malformed(_ bytes: [UInt8], _ expected: String) {
        #expect(Self.reason(bytes) == expected)
    }

    @Test("trailing bytes after a valid request are refused")
    func trailingBytes() throws {
        let valid = try OCSPRequestBytes.make(certIDs: 1)
        #expect(Self.reason(valid) == "accepted")
        #expect(Self.reason(valid + [0x00]) == "ocsp.notDER")
    }

    @Test("nonces of 1 to 32 octets are accepted; longer or empty ones are refused (RFC 8954)")
    func nonceLength() throws {
        #expect(Self.reason(try OCSPRequestBytes.make(certIDs: 1, nonce: Array(repeating: 7, count: 32))) == "accepted")
        #expect(Self.reason(try OCSPRequestBytes.make(certIDs: 1, nonce: [7])) == "accepted")
        #expect(Self.reason(try OCSPRequestBytes.make(certIDs: 1, nonce: Array(repeating: 7, count: 33))) == "ocsp.nonceLength")
        #expect(Self.reason(try OCSPRequestBytes.make(certIDs: 1, nonce: Array(repeating: 7, count: 10_000))) == "ocsp.nonceLength")
        #expect(Self.reason(try OCSPRequestBytes.make(certIDs: 1, nonce: [])) == "ocsp.nonceLength")
    }

    @Test("up to 20 CertIDs are answered; 21 or thousands are refused before any is read")
    func certIDCount() throws {
        #expect(Self.reason(try OCSPRequestBytes.make(certIDs: 20)) == "accepted")
        #expect(Self.reason(try OCSPRequestBytes.make(certIDs: 21)) == "ocsp.tooManyRequests")
        #expect(Self.reason(try OCSPRequestBytes.make(certIDs: 5_000)) == "ocsp.tooManyRequests")
    }

    @Test("only version 1 requests, and serials of at most 20 octets, are read")
    func versionAndSerial() throws {
        #expect(Self.reason(try OCSPRequestBytes.make(certIDs: 1, version: 0)) == "accepted")
        #expect(Self.reason(try OCSPRequestBytes.make(certIDs: 1, version: 3)) == "ocsp.version")
        #expect(Self.reason(try OCSPRequestBytes.make(certIDs: 1, serial: [0x01] + Array(repeating: 0xAB, count: 40))) == "ocsp.serialLength")
    }

    @Test("the fuzzers' seed requests, made by openssl ocsp -reqout, are read")
    func seeds() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz/Corpus/ocsp").standardized
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(!names.isEmpty)
        for name in names {
            #expect(Self.reason(try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))) == "accepted", "\(name)")
        }
    }
}

@Suite("Hostile input: PKCS#10 requests")
struct CSRHostileInputTests {
    @Test("the adversarial corpus: each request is accepted or refused for its true cause", arguments: HostileCorpus.files("csr"))
    func corpus(_ name: String) throws {
        let bytes = try HostileCorpus.bytes("csr", name)
        let outcome: String
        do throws(BizDirectError) {
            _ = try CSRCheck.check(bytes)
            outcome = "accept"
        } catch {
            outcome = error.reason
        }
        #expect(outcome == HostileCorpus.expected(name))
    }

    @Test("every refusal in the corpus has its own customer-readable detail, naming no internals")
    func details() throws {
        for name in HostileCorpus.files("csr") where HostileCorpus.expected(name) != "accept" {
            let bytes = try HostileCorpus.bytes("csr", name)
            do throws(BizDirectError) {
                _ = try CSRCheck.check(bytes)
                Issue.record("\(name) was accepted")
            } catch {
                #expect(error.kind == .malformed)
                #expect(!error.detail.isEmpty && !error.detail.contains("ASN1") && !error.detail.contains("Error"), "\(name): \(error.detail)")
            }
        }
    }

    @Test("the corpus covers each refusal reason the check can give")
    func coverage() {
        let reasons = Set(HostileCorpus.files("csr").map(HostileCorpus.expected))
        for reason in ["accept", "csr.tooLarge", "csr.notDER", "csr.multiple", "csr.pem", "csr.structure", "csr.version", "csr.keyUnsupported",
                       "csr.weakSignature", "csr.signatureAlgorithm", "csr.signatureMismatch", "csr.badSignature"] {
            #expect(reasons.contains(reason), "no corpus case for \(reason)")
        }
    }
}
