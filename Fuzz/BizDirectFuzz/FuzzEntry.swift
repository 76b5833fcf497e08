// libFuzzer harnesses for every decoder of untrusted input. One binary serves all of them;
// BIZDIRECT_FUZZ_TARGET picks the decoder. Build and run with `Fuzz/run` (see README,
// "Fuzzing"): it compiles with -sanitize=fuzzer,address and -D BIZDIRECT_FUZZING into
// .build-fuzz, so the product build stays as it is.
//
// A harness fails by trapping: a decoder that crashes, or that breaks its own contract (for
// example, a CSR accepted without a key), stops the run and leaves the input in a crash file.

import CertificateAuthority
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import BizDirectCore
import X509
import WebFrontEnd

/// The decoders a harness can exercise.
enum FuzzTarget: String, CaseIterable {
    case ocsp, ocspGET = "ocsp-get", csr, certificate, form, json, http, keyMaterial = "key-material", proxy

    static var current: FuzzTarget {
        let name = ProcessInfo.processInfo.environment["BIZDIRECT_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("set BIZDIRECT_FUZZ_TARGET to one of: \(allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        return target
    }

    /// Runs one input through the decoder.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .ocsp:
            Self.ocspRequest(bytes)
        case .ocspGET:
            Self.ocspRequest(InputDecoders.ocspGETRequest(path: "/ocsp/" + String(decoding: bytes, as: UTF8.self)))
        case .csr:
            if let checked = try? CSRCheck.check(bytes) {
                // An accepted request names a key and a hash of it; anything else is a broken contract.
                guard checked.spkiHash.count == 32 else { fatalError("accepted CSR without a key hash") }
            }
        case .certificate:
            Self.presentedCertificate(bytes)
        case .form:
            let fields = InputDecoders.formFields(String(decoding: bytes, as: UTF8.self))
            for value in fields.values {
                _ = try? ContractID(parsing: value)
                _ = try? UserID(parsing: value)
                _ = PIN(value).secret.count
            }
        case .json:
            // The acquisition and renewal bodies, decoded as the controllers decode them; the CSR
            // field then goes through the same check.
            let data = Data(bytes)
            if let body = InputDecoders.acquisitionBody(data) {
                _ = Data(base64Encoded: body.csr).map { try? CSRCheck.check(Array($0)) }
                _ = body.card.values.map { PIN($0).secret.count }
            }
            _ = InputDecoders.renewalBodyDecodes(data)
        case .http:
            Self.requestParts(String(decoding: bytes, as: UTF8.self))
        case .keyMaterial:
            Self.keyMaterial(bytes)
        case .proxy:
            Self.proxyHeader(bytes)
        }
    }

    /// The PROXY header a load balancer sends first, and the trusted-proxy list entries: a header
    /// is never longer than the bytes given nor than its limit, and names a real address or none.
    static func proxyHeader(_ bytes: [UInt8]) {
        do {
            if case .header(let length, let source) = try ProxyHeader.parse(bytes) {
                guard length > 0, length <= bytes.count, length <= 1024 else { fatalError("PROXY header of \(length) bytes from \(bytes.count)") }
                if let source, source.bytes.count != 4, source.bytes.count != 16 { fatalError("PROXY source of \(source.bytes.count) bytes") }
            }
        } catch {
            guard error.reason == "proxy.header" else { fatalError("PROXY refusal without its reason: \(error)") }
        }
        let text = String(decoding: bytes.prefix(64), as: UTF8.self)
        if let range = try? AddressRange(parsing: text), let address = IPAddress(text.split(separator: "/").first ?? "") {
            guard range.contains(address) else { fatalError("\(text) does not contain its own address") }
        }
    }

    /// An OCSP request is either refused with a reason or names 1 to 20 certificates.
    static func ocspRequest(_ der: [UInt8]) {
        do {
            let query = try OCSPResponder.parse(der)
            guard (1...20).contains(query.certIDs.count) else { fatalError("OCSP query with \(query.certIDs.count) CertIDs accepted") }
        } catch {
            guard error.kind == .malformed, error.reason.hasPrefix("ocsp.") else { fatalError("OCSP refusal without a reason: \(error)") }
        }
    }

    /// What start-up and the ceremony read from a token or an operator's file: a CKA_EC_POINT
    /// value, PEM armour of secrets, keys and requests, and an issuing-CA certificate.
    static func keyMaterial(_ bytes: [UInt8]) {
        if let decoded = PKCS11Token.publicKey(ecPoint: bytes) {
            // An accepted point is the input's last 65 (P-256) or 97 (P-384) bytes, as the key holds it.
            let length = decoded.curve == .p256 ? 65 : 97
            guard Array(decoded.key.subjectPublicKeyInfoBytes.suffix(length)) == Array(bytes.suffix(length)) else {
                fatalError("EC point accepted as another key")
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        for label in ["BIZDIRECT SECRET", "ENCRYPTED BIZDIRECT SECRET", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "CERTIFICATE REQUEST"] {
            if let der = PEMText.decode(text, label: label), label == "CERTIFICATE REQUEST" {
                _ = try? CertificateSigningRequest(derEncoded: der)
            }
        }
        _ = try? SoftwareSigner(pkcs8DER: bytes)
        _ = try? Certificate(pemEncoded: text)
    }

    /// What the logon site does with a presented certificate before it asks the database.
    static func presentedCertificate(_ der: [UInt8]) {
        guard let certificate = try? Certificate(derEncoded: der) else { return }
        _ = certificate.serialNumber.description
        _ = certificate.subject.description
        _ = certificate.notValidAfter
        _ = try? certificate.extensions.extendedKeyUsage
    }

    /// A request line's path and query, a Cookie header and an Accept-Language header, split
    /// from one input by newlines, read as the front end reads them.
    static func requestParts(_ text: String) {
        let lines = text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        let uri = URI(lines.first ?? "")
        _ = uri.path
        _ = uri.queryParameters["lang"]
        let cookie = lines.count > 1 ? lines[1] : ""
        var fields = HTTPFields()
        if let name = HTTPField.Name("Cookie") { fields.append(HTTPField(name: name, value: cookie)) }
        let request = Request(head: HTTPRequest(method: .get, scheme: "https", authority: "127.0.0.1", path: lines.first ?? "/", headerFields: fields), body: .init(buffer: .init()))
        _ = request.cookies["lang"]?.value
        _ = InputDecoders.language(query: uri.queryParameters["lang"].map(String.init), cookie: request.cookies["lang"]?.value,
                                   acceptLanguage: lines.count > 2 ? lines[2] : nil)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzEntry.target.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if BIZDIRECT_FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt
#endif

@main
enum FuzzEntry {
    static let target = FuzzTarget.current

    static func main() {
        #if BIZDIRECT_FUZZING
        _ = target
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
        #else
        // Without the fuzzer runtime, replay the files named on the command line once each,
        // so the harness itself is built and checked by the ordinary build.
        _ = target
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            target.run(Array(data))
        }
        #endif
    }
}
