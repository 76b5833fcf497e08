import BizDirectCore
import Foundation
import Hummingbird
import RegistrationAuthority

/// The plain-HTTP publication listener: CRL, OCSP (RFC 6960 GET and POST) and CA certificates.
struct PublicationController {
    let ra: RegistrationAuthority
    /// OCSP requests larger than this are malformed.
    static let maximumOCSPRequest = 16 * 1024

    func register(on router: Router<BizDirectRequestContext>) {
        router.get("/crl/issuing-ca.crl") { _, _ in
            Self.binary(try await ra.certificates.currentCRL(), type: "application/pkix-crl")
        }
        router.post("/ocsp") { request, _ in
            let body = try? await request.body.collect(upTo: Self.maximumOCSPRequest)
            let der = body.map { Array(buffer: $0) } ?? []
            return Self.binary(await ra.certificates.respondOCSP(der), type: "application/ocsp-response")
        }
        router.get("/ocsp/**") { request, _ in
            Self.binary(await ra.certificates.respondOCSP(Self.ocspGETRequest(path: request.uri.path)), type: "application/ocsp-response")
        }
        let material = ra.tlsMaterial
        router.get("/ca/root-ca.der") { _, _ in Self.binary(material.rootCADER, type: "application/pkix-cert") }
        router.get("/ca/issuing-ca.der") { _, _ in Self.binary(material.issuingCADER, type: "application/pkix-cert") }
        router.get("/ca/root-ca.pem") { _, _ in Self.binary(Array(material.rootCAPEM.utf8), type: "application/x-pem-file") }
        router.get("/ca/issuing-ca.pem") { _, _ in Self.binary(Array(material.issuingCAPEM.utf8), type: "application/x-pem-file") }
        if let der = material.tlsCADER, let pem = material.tlsCAPEM {
            router.get("/ca/tls-ca.der") { _, _ in Self.binary(der, type: "application/pkix-cert") }
            router.get("/ca/tls-ca.pem") { _, _ in Self.binary(Array(pem.utf8), type: "application/x-pem-file") }
        }
    }

    /// RFC 6960 Appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}.
    /// Anything that does not decode is an empty request, which the responder calls malformed.
    static func ocspGETRequest(path: String) -> [UInt8] {
        guard path.hasPrefix("/ocsp/"), path.utf8.count <= 4 * maximumOCSPRequest else { return [] }
        let base64 = String(path.dropFirst("/ocsp/".count)).removingPercentEncoding ?? ""
        return Data(base64Encoded: base64).map(Array.init) ?? []
    }

    static func binary(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=300"],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
