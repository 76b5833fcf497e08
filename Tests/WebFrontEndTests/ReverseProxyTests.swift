import BizDirectCore
import Foundation
import RegistrationAuthority
import Testing
import TestSupport

/// Reverse-proxy mode (TLS ends at the proxy; RFC 9440 `Client-Cert`), behind a real nginx and a
/// real HAProxy on 127.0.0.1. Both connect to BizDirect from 127.0.0.9, the only trusted proxy;
/// the test's own requests from 127.0.0.1 play the untrusted clients.
@Suite("Reverse-proxy mode")
struct ReverseProxyTests {
    static let proxyAddress = "127.0.0.9"

    static func server() async throws -> LiveServer {
        try await LiveServer.start {
            $0.reverseProxyPort = 0
            $0.trustedProxies = [try! AddressRange(parsing: proxyAddress)] // safe: a literal address
        }
    }

    static func sfBinary(_ credential: Credential) -> String { ":" + Data(credential.certificateDER).base64EncodedString() + ":" }

    @Test("forwarding headers from an untrusted address, a duplicate or an unparsable Client-Cert are refused with 400 and audited")
    func spoofing() async throws {
        let curl = try #require(ExternalTool.find("curl"))
        let server = try await Self.server()
        let credential = try await server.ra.enrolStaff()
        let url = try #require(server.reverseProxyURL) + "/logon"
        func status(from source: String, _ headers: [String]) async throws -> String {
            try await ExternalTool.run(curl, ["-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "--interface", source]
                                       + headers.flatMap { ["-H", $0] } + [url]).output
        }
        let certificate = "Client-Cert: \(Self.sfBinary(credential))"
        var refusals = 0
        for headers in [[certificate], ["X-Forwarded-For: 203.0.113.5"], ["Forwarded: for=203.0.113.5"], ["Client-Cert-Chain: \(Self.sfBinary(credential))"]] {
            #expect(try await status(from: "127.0.0.1", headers) == "400", "untrusted: \(headers)")
            refusals += 1
        }
        #expect(try await status(from: "127.0.0.1", []) == "403", "an untrusted request without forwarding headers is an ordinary one, with no certificate (the explanation page)")
        #expect(try await status(from: Self.proxyAddress, [certificate, certificate]) == "400", "duplicate")
        #expect(try await status(from: Self.proxyAddress, ["Client-Cert: :bm90IGJhc2U2NCE=:x"]) == "400", "unparsable")
        #expect(try await status(from: Self.proxyAddress, ["Client-Cert: -----BEGIN CERTIFICATE-----%0Azz"]) == "400", "unparsable PEM")
        refusals += 3
        let events = try await server.ra.store.recentAuditEvents(limit: 50).filter { $0.action == "proxy.forwardedHeader" }
        #expect(events.count == refusals, "one audit event per refusal")
        #expect(Set(events.map(\.outcome)) == ["denied:proxy.untrusted", "denied:proxy.duplicate", "denied:proxy.unparsable"])
        #expect(try await status(from: Self.proxyAddress, [certificate]) == "200", "the trusted proxy's certificate logs the staff member on")
        await server.stop()
    }

    @Test("behind nginx ($ssl_client_escaped_cert): the certificate gets the TLS checks, the session stays bound to it, the client's address is audited, and a client's own header is never passed")
    func nginx() async throws {
        let nginx = try #require(ExternalTool.find("nginx") ?? (FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") ? "/usr/sbin/nginx" : nil),
                                 "nginx is installed (apt install nginx)")
        try await Self.behind(.nginx(nginx))
    }

    @Test("behind HAProxy (ssl_c_der,base64): the same checks, binding, address and header stripping")
    func haproxy() async throws {
        let haproxy = try #require(ExternalTool.find("haproxy") ?? (FileManager.default.isExecutableFile(atPath: "/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : nil),
                                   "haproxy is installed (apt install haproxy)")
        try await Self.behind(.haproxy(haproxy))
    }

    /// Runs the journey behind a proxy of `kind`, and stops the proxy and the server whether it
    /// passes or throws (a proxy left running outlives the test run).
    static func behind(_ kind: Proxy.Kind) async throws {
        let server = try await Self.server()
        let proxy: Proxy
        do { proxy = try await Proxy.start(kind, for: server) } catch { await server.stop(); throw error }
        do {
            try await Self.journey(server, proxyURL: proxy.url)
        } catch {
            await proxy.stop()
            await server.stop()
            throw error
        }
        await proxy.stop()
        await server.stop()
    }

    /// What both proxies must get right.
    static func journey(_ server: LiveServer, proxyURL: String) async throws {
        let curl = try #require(ExternalTool.find("curl"))
        let contract = try await server.ra.onboardContract()
        try await server.ra.registerUser(contract, userID: "taro01", name: "山田花子")
        let user = try await server.ra.acquireCredential(.user(contractID: contract.contractID, userID: "taro01"), pin: "user1pin", confirmationPIN: "conf1pin")
        let other = try await server.ra.enrolStaff()

        // A complete logon through the proxy; the page depends on the certificate, so no cache keeps it.
        let browser = try server.browser(user)
        let form = try await browser.get(proxyURL + "/logon?as=user")
        #expect(form.status == 200, "\(form.status) \(form.body.prefix(300))")
        let afterPIN = try await browser.post(proxyURL + "/logon/pin", form: ["csrf": form.field("csrf") ?? "", "pin": "user1pin"])
        #expect(afterPIN.headers["Location"].first == "/logon/change-pin")
        let change = try await browser.get(proxyURL + "/logon/change-pin")
        _ = try await browser.post(proxyURL + "/logon/change-pin", form: ["csrf": change.field("csrf") ?? "", "pin": "mine1pin", "confirmation": "mine2pin"])
        let home = try await browser.get(proxyURL + "/home")
        #expect(home.status == 200 && home.body.contains("山田花子"))
        #expect(home.headers["Cache-Control"].first == "no-store")
        // The session is bound to the certificate: another certificate with the same cookie is refused.
        let thief = try server.browser(other)
        thief.cookies = browser.cookies
        #expect(try await thief.get(proxyURL + "/home").status != 200, "a stolen cookie with another certificate")
        await thief.close()
        await browser.close()

        // The client's address from the proxy, not the proxy's own.
        let certificatePath = server.directory.url.appendingPathComponent("user.pem").path
        try Data((user.certificatePEM + user.keyPEM).utf8).write(to: URL(fileURLWithPath: certificatePath))
        let seen = try await ExternalTool.run(curl, ["-sk", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "--interface", "127.0.0.2",
                                                     "--cert", certificatePath, proxyURL + "/logon?as=user"])
        #expect(seen.output == "200")
        let event = try await server.ra.store.recentAuditEvents(limit: 5).first { $0.action == "logon.certificate" }
        #expect(event?.clientAddress == "127.0.0.2" && event?.certificateSerial == user.serial, "\(String(describing: event?.clientAddress))")

        // A revoked certificate through the proxy is refused as over TLS.
        try await server.ra.certificates.revoke(serial: other.serial, reason: .keyCompromise, actor: "test")
        let revokedPath = server.directory.url.appendingPathComponent("other.pem").path
        try Data((other.certificatePEM + other.keyPEM).utf8).write(to: URL(fileURLWithPath: revokedPath))
        let revoked = try await ExternalTool.run(curl, ["-sk", "--max-time", "10", "-w", "%{http_code}", "--cert", revokedPath, proxyURL + "/logon"])
        #expect(revoked.output.hasSuffix("403") && revoked.output.contains("data-problem=\"revoked\""), "\(revoked.output.suffix(200))")

        // A client without a certificate that sends its own Client-Cert header gets nowhere: the
        // proxy replaces or drops it.
        let spoof = try await ExternalTool.run(curl, ["-sk", "--max-time", "10", "-w", "%{http_code}", "-H", "Client-Cert: \(sfBinary(user))",
                                                      "-H", "X-Forwarded-For: 203.0.113.5", proxyURL + "/logon?as=user"])
        #expect(spoof.output.hasSuffix("403") && spoof.output.contains("data-problem=\"none\""), "\(spoof.output.suffix(200))")
        let last = try await server.ra.store.recentAuditEvents(limit: 5)
        #expect(!last.contains { $0.clientAddress == "203.0.113.5" }, "the client's own X-Forwarded-For is not believed")
    }
}

/// A TLS-terminating proxy in front of the reverse-proxy listener, using the server's own TLS
/// certificate (so the test browser trusts it) and asking for client certificates from the
/// issuing CA without judging them (BizDirect decides).
struct Proxy {
    enum Kind { case nginx(String), haproxy(String) }
    let process: Process
    let url: String

    static func start(_ kind: Kind, for server: LiveServer) async throws -> Proxy {
        let folder = server.directory.url.appendingPathComponent("proxy")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let material = server.ra.tlsMaterial
        let chain = folder.appendingPathComponent("server.pem").path, key = folder.appendingPathComponent("server.key").path
        let combined = folder.appendingPathComponent("combined.pem").path, issuer = folder.appendingPathComponent("issuing-ca.pem").path
        try Data(material.serverChainPEM.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: chain))
        try Data(material.serverKeyPEM.utf8).write(to: URL(fileURLWithPath: key))
        try Data((material.serverChainPEM.joined(separator: "\n") + "\n" + material.serverKeyPEM).utf8).write(to: URL(fileURLWithPath: combined))
        // The whole client chain (issuing CA and root): with the issuing CA alone OpenSSL stops at
        // "unable to get issuer certificate", which nginx's optional_no_ca does not forgive (400).
        try Data((material.issuingCAPEM + "\n" + material.rootCAPEM).utf8).write(to: URL(fileURLWithPath: issuer))
        let backend = try #require(server.reverseProxyURL).replacingOccurrences(of: "http://", with: "")
        let port = FreePort.find()
        let process = Process()
        switch kind {
        case .nginx(let path):
            let config = """
            \(getuid() == 0 ? "user root;" : "")
            worker_processes 1;
            error_log \(folder.path)/error.log info;
            pid \(folder.path)/nginx.pid;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(folder.path)/body;
                proxy_temp_path \(folder.path)/proxy;
                server {
                    listen 127.0.0.1:\(port) ssl;
                    ssl_certificate \(chain);
                    ssl_certificate_key \(key);
                    ssl_client_certificate \(issuer);
                    ssl_verify_client optional_no_ca;
                    location / {
                        proxy_pass http://\(backend);
                        proxy_bind \(ReverseProxyTests.proxyAddress);
                        proxy_set_header Client-Cert $ssl_client_escaped_cert;
                        proxy_set_header X-Forwarded-For $remote_addr;
                        proxy_set_header Forwarded "";
                        proxy_set_header Client-Cert-Chain "";
                    }
                }
            }
            """
            try Data(config.utf8).write(to: folder.appendingPathComponent("nginx.conf"))
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = ["-p", folder.path, "-c", folder.appendingPathComponent("nginx.conf").path, "-g", "daemon off;"]
        case .haproxy(let path):
            let config = """
            global
                log stderr format raw local0 info
            defaults
                mode http
                timeout connect 3s
                timeout client 30s
                timeout server 30s
            frontend logon
                bind 127.0.0.1:\(port) ssl crt \(combined) ca-file \(issuer) verify optional crt-ignore-err all ca-ignore-err all
                http-request del-header Client-Cert
                http-request del-header Client-Cert-Chain
                http-request del-header Forwarded
                http-request set-header Client-Cert :%[ssl_c_der,base64]: if { ssl_c_used }
                option forwardfor
                default_backend bizdirect
            backend bizdirect
                source \(ReverseProxyTests.proxyAddress)
                server bizdirect \(backend)

            """
            try Data(config.utf8).write(to: folder.appendingPathComponent("haproxy.cfg"))
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = ["-db", "-f", folder.appendingPathComponent("haproxy.cfg").path]
        }
        let log = folder.appendingPathComponent("proxy.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()
        let proxy = Proxy(process: process, url: "https://127.0.0.1:\(port)")
        for _ in 0..<40 {
            let answer = try? await ExternalTool.run("/usr/bin/env", ["curl", "-sk", "--max-time", "2", "-o", "/dev/null", "-w", "%{http_code}", proxy.url + "/logon"])
            if let code = answer?.output, code != "000", !code.isEmpty { return proxy }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        await proxy.stop()
        let printed = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOf: folder.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
        throw BizDirectError.internal("test.proxy", "the proxy did not come up: \(printed.suffix(800)) \(errors.suffix(800))")
    }

    /// Asks the proxy to stop (nginx's master then stops its workers), kills it after 5 s, and
    /// reaps it with `waitpid` itself: Foundation's own wait never returned for a killed nginx
    /// master (it stayed a zombie while the waiting thread spun), which hung the suite.
    func stop() async {
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        let reaped = await Task.detached { () -> Bool in
            var status: Int32 = 0
            for attempt in 0..<100 {
                if attempt == 50 { kill(pid, SIGKILL) }
                let result = waitpid(pid, &status, WNOHANG)
                if result == pid || (result == -1 && errno == ECHILD) { return true }
                usleep(100_000)
            }
            return false
        }.value
        if !reaped { kill(pid, SIGKILL) }
    }
}
