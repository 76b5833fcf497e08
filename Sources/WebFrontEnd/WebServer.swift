import BizDirectCore
import Hummingbird
import HummingbirdCore
import HTTPTypes
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import RegistrationAuthority
import ServiceLifecycle

/// The four listeners: the public site, the certificate-logon site, publication, and operations
/// (health checks, loopback by default).
public struct WebServer: Sendable {
    /// Which listener a port report is about.
    public enum Listener: String, Sendable, CaseIterable {
        case publicSite, logonSite, publication, operations
        /// The certificate-logon site behind a TLS-terminating reverse proxy (off by default).
        case reverseProxy
    }

    let ra: RegistrationAuthority
    let logger: Logger
    let limits: ConnectionLimits
    let onListening: @Sendable (Listener, Int) async -> Void

    /// Makes the server; `onListening` hears each listener's bound port (useful with port 0).
    public init(ra: RegistrationAuthority, logger: Logger, limits: ConnectionLimits = ConnectionLimits(),
                onListening: @escaping @Sendable (Listener, Int) async -> Void = { _, _ in }) {
        self.ra = ra
        self.logger = logger
        self.limits = limits
        self.onListening = onListening
    }

    /// TLS 1.2 suites offered: ECDHE with AES-GCM or ChaCha20-Poly1305 only (no CBC, no static
    /// RSA). TLS 1.3's suites are all AEAD and are not configurable in BoringSSL.
    public static let tls12CipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    /// Builds the three applications and the CRL refresher, ready to run in a service group.
    public func services() async throws -> [any Service] {
        let config = ra.configuration
        let host = config.canonicalHost
        let links = ["public": "https://\(host):\(config.publicPort)", "logon": "https://\(host):\(config.logonPort)",
                     "publication": config.publicationBaseURL]
        let renderer = try await PageRenderer.load(links: links)
        let limiter = AttemptLimitMiddleware(sessions: ra.sessions)
        let proxies = config.proxyProtocolFrom

        // Routes that check a secret are declared in a `secrets` group: the limiter is a property
        // of the route, and it keys on the matched route, so no spelling of a path escapes it.
        let publicRouter = router(renderer: renderer, https: true)
        let publicSecrets = publicRouter.group().add(middleware: limiter)
        PublicController(renderer: renderer, tlsCAFingerprint: ra.tlsMaterial.tlsCAFingerprint).register(on: publicRouter)
        AcquisitionController(ra: ra, renderer: renderer).register(on: publicRouter, secrets: publicSecrets)

        // The certificate-logon site: the certificate from the TLS handshake, or (on the
        // reverse-proxy listener) from a trusted proxy's Client-Cert header. Everything after the
        // first middleware is the same.
        func logonSite(certificateFrom source: some RouterMiddleware<BizDirectRequestContext>) -> Router<BizDirectRequestContext> {
            let logonRouter = router(renderer: renderer, https: true)
            logonRouter.add(middleware: source)
            let logonSecrets = logonRouter.group().add(middleware: limiter)
            LogonController(ra: ra, renderer: renderer).register(on: logonRouter, secrets: logonSecrets)
            BranchController(ra: ra, renderer: renderer).register(on: logonRouter)
            AccountController(ra: ra, renderer: renderer).register(on: logonRouter, secrets: logonSecrets)
            AdministratorController(ra: ra, renderer: renderer).register(on: logonRouter, secrets: logonSecrets)
            return logonRouter
        }
        let logonRouter = logonSite(certificateFrom: PeerCertificateMiddleware())

        let publicationRouter = router(renderer: renderer, https: false)
        PublicationController(ra: ra).register(on: publicationRouter)

        let operationsRouter = Router(context: BizDirectRequestContext.self)
        OperationsController(health: ra).register(on: operationsRouter)

        var services: [any Service] = [
            application(publicRouter, port: config.publicPort,
                        server: .bizDirect(http1: limits.http1, tls: .init(tlsConfiguration: try serverTLS(clientCertificates: false)), proxyProtocolFrom: proxies),
                        .publicSite),
            application(logonRouter, port: config.logonPort, server: .bizDirect(http1: limits.http1, tls: try logonTLS(), proxyProtocolFrom: proxies), .logonSite),
            application(publicationRouter, port: config.httpPort, server: .bizDirect(http1: limits.http1, tls: nil, proxyProtocolFrom: proxies), .publication),
            // Health checks come straight from the load balancer, never with a PROXY header.
            application(operationsRouter, bind: config.operationsBindAddress, port: config.operationsPort,
                        server: .bizDirect(http1: limits.http1, tls: nil, proxyProtocolFrom: []), .operations),
        ]
        if let port = config.reverseProxyPort {
            // Plain HTTP from the proxy on a private network: TLS, and the client certificate's
            // proof of possession, end at the proxy.
            let router = logonSite(certificateFrom: ReverseProxyMiddleware(trusted: config.trustedProxies, audit: ra))
            services.append(application(router, port: port, server: .bizDirect(http1: limits.http1, tls: nil, proxyProtocolFrom: []), .reverseProxy))
        }
        return services + [
            PeriodicJob.crlRefresh(ra, logger: logger),
            PeriodicJob.ocspResponderRenewal(ra, logger: logger),
            PeriodicJob.sessionPurge(ra, logger: logger),
        ]
    }

    private func router(renderer: PageRenderer, https: Bool) -> Router<BizDirectRequestContext> {
        let router = Router(context: BizDirectRequestContext.self)
        // First, so that limits, logs and the audit chain all see the client's address.
        if !ra.configuration.proxyProtocolFrom.isEmpty { router.add(middleware: ProxiedClientAddressMiddleware()) }
        router.add(middleware: LanguageMiddleware())
        router.add(middleware: SecurityHeadersMiddleware(https: https))
        router.add(middleware: ErrorPageMiddleware(renderer: renderer))
        router.add(middleware: RequestLogMiddleware())
        return router
    }

    private func application(_ router: Router<BizDirectRequestContext>, bind: String? = nil, port: Int, server: HTTPServerBuilder,
                             _ listener: Listener) -> any Service {
        let onListening = self.onListening
        return Application(
            router: router, server: server,
            configuration: .init(address: .hostname(bind ?? ra.configuration.bindAddress, port: port), serverName: nil,
                                 availableConnectionsDelegate: MaximumAvailableConnections(limits.maximumConnections, logger: logger)),
            onServerRunning: { channel in await onListening(listener, channel.localAddress?.port ?? port) },
            logger: logger)
    }

    private func serverTLS(clientCertificates: Bool) throws -> TLSConfiguration {
        let material = ra.tlsMaterial
        let chain = try material.serverChainPEM.flatMap { try NIOSSLCertificate.fromPEMBytes(Array($0.utf8)) }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(material.serverKeyPEM.utf8), format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuiteValues = Self.tls12CipherSuites
        if clientCertificates {
            // Ask for a certificate from our issuing CA, and name that CA to the browser.
            tls.certificateVerification = .optionalVerification
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(material.issuingCAPEM.utf8)))
            tls.sendCANameList = true
        }
        return tls
    }

    /// The logon listener lets every certificate through the handshake (expired, revoked or
    /// foreign ones included), so that the application can explain what is wrong instead of the
    /// browser showing a bare TLS alert. TLS still proves possession of the key; the RA decides.
    private func logonTLS() throws -> TLSChannelConfiguration {
        TLSChannelConfiguration(tlsConfiguration: try serverTLS(clientCertificates: true)) { _, promise in
            promise.succeed(.certificateVerified)
        }
    }
}

/// Logs each request with its id, method, path and status; never query strings, bodies or cookies.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = BizDirectRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        context.logger.info("request", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(response.status.code)"])
        return response
    }
}
