import BizDirectCore
import CertificateAuthority
import Foundation
import RegistrationAuthority
import Testing
import TestSupport

/// Cross-checks what the CA publishes with openssl and pkilint, against a running server.
@Suite("Publication conformance (openssl, pkilint)")
struct PublicationConformanceTests {
    struct Fixture {
        let server: LiveServer
        let directory: TemporaryDirectory
        let good: Credential, revoked: Credential
        func path(_ name: String) -> String { directory.url.appendingPathComponent(name).path }
    }

    static func fixture(hostNames: [String] = ["localhost", "127.0.0.1", "::1"]) async throws -> Fixture {
        let server = try await LiveServer.start { $0.hostNames = hostNames }
        let directory = TemporaryDirectory("conformance")
        let good = try await server.ra.enrolStaff(name: "Good Holder")
        let revoked = try await server.ra.enrolStaff(name: "Revoked Holder")
        try await server.ra.certificates.revoke(serial: revoked.serial, reason: .keyCompromise, actor: "test")
        let ca = server.caDirectory
        let root = try String(contentsOf: ca.appendingPathComponent("root-ca.cert.pem"), encoding: .utf8)
        let issuing = try String(contentsOf: ca.appendingPathComponent("issuing-ca.cert.pem"), encoding: .utf8)
        let write = { (name: String, text: String) in try Data(text.utf8).write(to: directory.url.appendingPathComponent(name)) }
        try write("root.pem", root)
        try write("issuing.pem", issuing)
        try write("chain.pem", root + issuing)
        try write("good.pem", good.certificatePEM)
        try write("revoked.pem", revoked.certificatePEM)
        let crl = try await server.ra.certificates.currentCRL()
        try Data(crl).write(to: directory.url.appendingPathComponent("crl.der"))
        return Fixture(server: server, directory: directory, good: good, revoked: revoked)
    }

    @Test("openssl verifies issued certificates for client authentication against the chain",
          .enabled(if: ExternalTool.available("openssl"), "needs openssl (CI installs it)"))
    func opensslVerify() async throws {
        let openssl = try #require(ExternalTool.find("openssl"))
        let f = try await Self.fixture(); defer { f.directory.remove(); Task { await f.server.stop() } }
        let result = try await ExternalTool.run(openssl, ["verify", "-purpose", "sslclient", "-CAfile", f.path("root.pem"),
                                                    "-untrusted", f.path("issuing.pem"), f.path("good.pem")])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("OK"))
    }

    @Test("openssl refuses a server certificate made with the issuing CA's key (EKU in the CA), and one the TLS CA signs for another site (name constraints)",
          .enabled(if: ExternalTool.available("openssl"), "needs openssl (CI installs it)"))
    func opensslConstraints() async throws {
        let openssl = try #require(ExternalTool.find("openssl"))
        let f = try await Self.fixture(hostNames: ["bizdirect.example.jp"]); defer { f.directory.remove(); Task { await f.server.stop() } }
        let ca = f.server.caDirectory
        // What an intruder holding the online issuing key could make: a server certificate for any site.
        func forge(_ name: String, host: String, caPEM: URL) async throws -> String {
            let key = f.path("\(name).key"), request = f.path("\(name).csr"), extensions = f.path("\(name).ext"), out = f.path("\(name).pem")
            try Data("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:\(host)\n".utf8)
                .write(to: URL(fileURLWithPath: extensions))
            _ = try await ExternalTool.run(openssl, ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                                    "-keyout", key, "-subj", "/CN=\(host)", "-out", request])
            let signed = try await ExternalTool.run(openssl, ["x509", "-req", "-in", request, "-CA", caPEM.path, "-CAkey", caPEM.path,
                                                             "-set_serial", "4242", "-days", "30", "-extfile", extensions, "-out", out])
            #expect(signed.status == 0, "\(signed.output)")
            return out
        }
        let forged = try await forge("forged", host: "www.google.com", caPEM: ca.appendingPathComponent("issuing-ca.pem"))
        let refused = try await ExternalTool.run(openssl, ["verify", "-purpose", "sslserver", "-CAfile", f.path("root.pem"),
                                                           "-untrusted", f.path("issuing.pem"), forged])
        #expect(refused.status != 0 && refused.output.contains("unsuitable certificate purpose"), "\(refused.output)")
        // The TLS server certificate verifies for its name; one the TLS CA signs for another name does not.
        let tlsCA = ca.appendingPathComponent("tls-ca.cert.pem").path
        let server = try await ExternalTool.run(openssl, ["verify", "-purpose", "sslserver", "-verify_hostname", "bizdirect.example.jp",
                                                          "-CAfile", tlsCA, ca.appendingPathComponent("tls-server.cert.pem").path])
        #expect(server.status == 0, "\(server.output)")
        let outside = try await forge("outside", host: "www.google.com", caPEM: ca.appendingPathComponent("tls-ca.pem"))
        let constrained = try await ExternalTool.run(openssl, ["verify", "-purpose", "sslserver", "-CAfile", tlsCA, outside])
        #expect(constrained.status != 0 && constrained.output.contains("permitted subtree violation"), "\(constrained.output)")
        // The TLS CA is no anchor for client certificates.
        let client = try await ExternalTool.run(openssl, ["verify", "-purpose", "sslclient", "-CAfile", tlsCA, f.path("good.pem")])
        #expect(client.status != 0, "\(client.output)")
    }

    @Test("openssl accepts the CRL's signature and reports the revoked certificate as revoked",
          .enabled(if: ExternalTool.available("openssl"), "needs openssl (CI installs it)"))
    func opensslCRL() async throws {
        let openssl = try #require(ExternalTool.find("openssl"))
        let f = try await Self.fixture(); defer { f.directory.remove(); Task { await f.server.stop() } }
        let crl = try await ExternalTool.run(openssl, ["crl", "-inform", "DER", "-in", f.path("crl.der"), "-CAfile", f.path("issuing.pem"), "-noout", "-verify"])
        #expect(crl.status == 0 && crl.output.contains("verify OK"), "\(crl.output)")
        _ = try await ExternalTool.run(openssl, ["crl", "-inform", "DER", "-in", f.path("crl.der"), "-out", f.path("crl.pem")])
        let revoked = try await ExternalTool.run(openssl, ["verify", "-crl_check", "-CAfile", f.path("chain.pem"), "-CRLfile", f.path("crl.pem"), f.path("revoked.pem")])
        #expect(revoked.status != 0 && revoked.output.contains("certificate revoked"), "\(revoked.output)")
        let good = try await ExternalTool.run(openssl, ["verify", "-crl_check", "-CAfile", f.path("chain.pem"), "-CRLfile", f.path("crl.pem"), f.path("good.pem")])
        #expect(good.status == 0, "\(good.output)")
    }

    @Test("openssl ocsp gets good, revoked and unknown from the running responder, each verified",
          .enabled(if: ExternalTool.available("openssl"), "needs openssl (CI installs it)"))
    func opensslOCSP() async throws {
        let openssl = try #require(ExternalTool.find("openssl"))
        let f = try await Self.fixture(); defer { f.directory.remove(); Task { await f.server.stop() } }
        let url = f.server.publicationURL + "/ocsp"
        func ask(_ certificate: [String]) async throws -> String {
            let result = try await ExternalTool.run(openssl, ["ocsp", "-issuer", f.path("issuing.pem"), "-CAfile", f.path("chain.pem"),
                                                        "-url", url, "-timeout", "20"] + certificate + ["-resp_text"])
            return result.output
        }
        let good = try await ask(["-cert", f.path("good.pem")])
        #expect(good.contains("Response verify OK") && good.contains(": good"), "\(good)")
        #expect(good.contains("WARNING: no nonce") == false, "nonce must be echoed")
        let revoked = try await ask(["-cert", f.path("revoked.pem")])
        #expect(revoked.contains("Response verify OK") && revoked.contains(": revoked") && revoked.contains("Reason: keyCompromise"), "\(revoked)")
        let unknown = try await ask(["-serial", "0x1234567890abcdef"])
        #expect(unknown.contains("Response verify OK") && unknown.contains(": unknown"), "\(unknown)")
    }

    @Test("pkilint finds no error in any certificate kind, the CRL, or an OCSP response",
          .enabled(if: ExternalTool.available("lint_pkix_cert", "lint_crl", "lint_ocsp_response", "openssl"), "needs pkilint and openssl (CI installs them)"))
    func pkilint() async throws {
        let lintCert = try #require(ExternalTool.find("lint_pkix_cert")), lintCRL = try #require(ExternalTool.find("lint_crl"))
        let lintOCSP = try #require(ExternalTool.find("lint_ocsp_response")), openssl = try #require(ExternalTool.find("openssl"))
        // pkilint rejects the single-label name "localhost", so the TLS certificate is linted with FQDNs.
        let f = try await Self.fixture(hostNames: ["bizdirect.example.jp", "127.0.0.1"])
        defer { f.directory.remove(); Task { await f.server.stop() } }
        let ca = f.server.caDirectory.path
        for name in ["root-ca", "issuing-ca", "ocsp-responder", "tls-ca", "tls-server"] {
            let result = try await ExternalTool.run(lintCert, ["lint", "-s", "ERROR", "\(ca)/\(name).cert.pem"])
            #expect(result.status == 0 && result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(name): \(result.output)")
        }
        for name in ["good.pem", "revoked.pem"] {
            let result = try await ExternalTool.run(lintCert, ["lint", "-s", "ERROR", f.path(name)])
            #expect(result.status == 0 && result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(name): \(result.output)")
        }
        let crl = try await ExternalTool.run(lintCRL, ["lint", "-t", "CRL", "-p", "PKIX", "-s", "ERROR", f.path("crl.der")])
        #expect(crl.status == 0 && crl.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "CRL: \(crl.output)")
        for certificate in ["good.pem", "revoked.pem"] {
            _ = try await ExternalTool.run(openssl, ["ocsp", "-issuer", f.path("issuing.pem"), "-cert", f.path(certificate), "-reqout", f.path("req.der"), "-no_nonce"])
            let request = try [UInt8](Data(contentsOf: f.directory.url.appendingPathComponent("req.der")))
            try Data(await f.server.ra.certificates.respondOCSP(request)).write(to: f.directory.url.appendingPathComponent("resp.der"))
            let ocsp = try await ExternalTool.run(lintOCSP, ["lint", "-s", "ERROR", f.path("resp.der")])
            #expect(ocsp.status == 0 && ocsp.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "OCSP: \(ocsp.output)")
        }
    }

    @Test("a malformed OCSP request gets malformedRequest over HTTP, never a 500",
          .enabled(if: ExternalTool.available("curl"), "needs curl (CI installs it)"))
    func malformedOCSP() async throws {
        let f = try await Self.fixture(); defer { f.directory.remove(); Task { await f.server.stop() } }
        for body in [[UInt8](), Array("garbage".utf8), [0x30, 0x82, 0xff, 0xff]] {
            #expect(await f.server.ra.certificates.respondOCSP(body) == OCSPResponder.malformedResponse)
        }
        let curl = try #require(ExternalTool.find("curl"))
        let result = try await ExternalTool.run(curl, ["-s", "--max-time", "20", "-o", f.path("m.der"), "-w", "%{http_code}", "--data-binary", "garbage",
                                                 "-H", "Content-Type: application/ocsp-request", f.server.publicationURL + "/ocsp"])
        #expect(result.output == "200")
        #expect(try [UInt8](Data(contentsOf: f.directory.url.appendingPathComponent("m.der"))) == OCSPResponder.malformedResponse)
        let get = try await ExternalTool.run(curl, ["-s", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}", f.server.publicationURL + "/ocsp/%%%notbase64"])
        #expect(get.output == "200")
    }
}
