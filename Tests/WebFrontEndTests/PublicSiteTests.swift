import Foundation
import Testing
import TestSupport

@Suite("Public site and publication listener")
struct PublicSiteTests {
    @Test("the top page is Japanese by default, English on request, and names the FAQ's entry points")
    func topPageLanguages() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let browser = try server.browser()
        let japanese = try await browser.get(server.publicURL + "/")
        #expect(japanese.status == 200 && japanese.body.contains("lang=\"ja\""))
        for entry in ["管理者ログオン", "利用者ログオン", "電子証明書取得"] { #expect(japanese.body.contains(entry)) }
        let english = try await browser.get(server.publicURL + "/", headers: [("Accept-Language", "en-GB,en;q=0.9")])
        #expect(english.body.contains("lang=\"en\"") && english.body.contains("Administrator logon"))
        let switched = try await browser.get(server.publicURL + "/?lang=en")
        #expect(switched.body.contains("lang=\"en\"") && browser.cookies["lang"] == "en")
        #expect(try await browser.get(server.publicURL + "/").body.contains("lang=\"en\""), "the choice is remembered")
        await browser.close()
    }

    @Test("each acquisition entry page opens, with our own scripts and no inline script")
    func acquisitionPages() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let browser = try server.browser()
        for kind in ["administrator", "user", "staff"] {
            let page = try await browser.get(server.publicURL + "/acquire/\(kind)")
            #expect(page.status == 200, "\(kind)")
            #expect(browser.cookies["__Host-bizdirect_form"] != nil)
        }
        let form = try await browser.get(server.publicURL + "/acquire/user")
        #expect(form.body.contains("src=\"/static/pkcs.js\"") && !form.body.contains("<script>"))
        for script in ["der.js", "pkcs.js", "acquire.js"] {
            #expect(try await browser.get(server.publicURL + "/static/\(script)").status == 200)
        }
        let forged = try await browser.post(server.publicURL + "/acquire/administrator/challenge", form: ["csrf": "forged", "contractID": "12345678901"])
        #expect(forged.status == 403)
        await browser.close()
    }

    @Test("every page carries the security headers, and errors come as pages without internals")
    func securityHeaders() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let browser = try server.browser()
        let page = try await browser.get(server.publicURL + "/")
        #expect(page.headers["Strict-Transport-Security"].first?.contains("max-age=") == true)
        #expect(page.headers["Content-Security-Policy"].first?.contains("default-src 'self'") == true)
        #expect(page.headers["Content-Security-Policy"].first?.contains("frame-ancestors 'none'") == true)
        #expect(page.headers["Referrer-Policy"].first == "no-referrer")
        #expect(!page.body.contains("<script>") && !page.body.contains("style=\""))
        let missing = try await browser.get(server.publicURL + "/no/such/page", headers: [("Accept-Language", "en")])
        #expect(missing.status == 404 && missing.body.contains("Page not found") && !missing.body.contains("HTTPError"))
        let css = try await browser.get(server.publicURL + "/static/site.css")
        #expect(css.status == 200 && css.headers["Content-Type"].first?.hasPrefix("text/css") == true)
        await browser.close()
    }

    @Test("the CA certificates and the CRL are published over plain HTTP")
    func publication() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let browser = try server.browser()
        let crl = try await browser.get(server.publicationURL + "/crl/issuing-ca.crl")
        #expect(crl.status == 200 && crl.headers["Content-Type"].first == "application/pkix-crl")
        let pem = try await browser.get(server.publicationURL + "/ca/root-ca.pem")
        #expect(pem.body == server.rootPEM)
        let der = try await browser.get(server.publicationURL + "/ca/issuing-ca.der")
        #expect(der.status == 200 && der.headers["Content-Type"].first == "application/pkix-cert")
        let tlsCA = try await browser.get(server.publicationURL + "/ca/tls-ca.pem")
        #expect(tlsCA.status == 200 && tlsCA.body == server.tlsCAPEM && !server.tlsCAPEM.isEmpty)
        // The help page asks customers to trust the TLS CA, by its fingerprint, never the client root.
        let help = try await browser.get(server.publicURL + "/help")
        let fingerprint = try #require(server.ra.tlsMaterial.tlsCAFingerprint)
        #expect(help.body.contains(fingerprint) && help.body.contains("/ca/tls-ca.der"))
        #expect(!help.body.contains(server.ra.tlsMaterial.rootFingerprint) && !help.body.contains("/ca/root-ca.der"))
        await browser.close()
    }

    @Test("a request body over the limit is refused with a page")
    func bodyLimit() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let credential = try await server.ra.enrolStaff()
        let browser = try server.browser(credential)
        let form = try await browser.get(server.logonURL + "/logon")
        let huge = String(repeating: "x", count: 300 * 1024)
        let page = try await browser.post(server.logonURL + "/logon/pin", form: ["csrf": form.field("csrf") ?? "", "pin": huge])
        #expect(page.status == 400 || page.status == 413)
        await browser.close()
    }
}
