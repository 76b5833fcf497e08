import AsyncHTTPClient
import BizDirectCore
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import RegistrationAuthority
import ServiceLifecycle
import WebFrontEnd

/// A real BizDirect server on 127.0.0.1 with ephemeral ports and a fresh data folder.
public final class LiveServer: Sendable {
    /// The registration authority behind it.
    public let ra: RegistrationAuthority
    /// The injected clock.
    public let clock: ManualClock
    /// The data folder.
    public let directory: TemporaryDirectory
    /// Base URLs of the three listeners.
    public let publicURL: String, logonURL: String, publicationURL: String
    /// The reverse-proxy listener (plain HTTP), when the configuration asked for one.
    public let reverseProxyURL: String?
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// Starts a server; `configure` may change settings (lifetimes, limits) before start.
    public static func start(clock: ManualClock = ManualClock(), limits: ConnectionLimits = ConnectionLimits(),
                             configure: (inout BizDirectConfiguration) -> Void = { _ in }) async throws -> LiveServer {
        let directory = TemporaryDirectory()
        var configuration = BizDirectConfiguration(dataDirectory: directory.url)
        configuration.publicPort = 0
        configuration.logonPort = 0
        configuration.operationsPort = 0
        configuration.scryptLogN = 12
        configuration.databaseURL = try await TestDatabase.url(in: directory.url)
        configure(&configuration)
        // The publication port is chosen up front (certificates carry it); another process may
        // take it meanwhile, so a start that fails is retried on a new port.
        for attempt in 1...3 {
            configuration.httpPort = FreePort.find()
            let ra = try await RegistrationAuthority.open(configuration: configuration, logger: TestDatabase.logger, clock: clock)
            let ports = PortCollector()
            do {
                let server = WebServer(ra: ra, logger: TestDatabase.logger, limits: limits) { listener, port in ports.record(listener, port) }
                let group = ServiceGroup(configuration: .init(services: try await server.services(), gracefulShutdownSignals: [],
                                                              logger: TestDatabase.logger))
                let task = Task { try await group.run() }
                let found = try await ports.wait(while: task, reverseProxy: configuration.reverseProxyPort != nil)
                return LiveServer(ra: ra, clock: clock, directory: directory, group: group, task: task,
                                  publicURL: "https://127.0.0.1:\(found[.publicSite]!)", logonURL: "https://127.0.0.1:\(found[.logonSite]!)",
                                  publicationURL: "http://127.0.0.1:\(found[.publication]!)",
                                  reverseProxyURL: found[.reverseProxy].map { "http://127.0.0.1:\($0)" })
            } catch {
                await ra.shutdown()
                if attempt == 3 {
                    directory.remove()
                    throw error
                }
            }
        }
        throw BizDirectError.internal("test.start", "The server did not start.")
    }

    private init(ra: RegistrationAuthority, clock: ManualClock, directory: TemporaryDirectory, group: ServiceGroup, task: Task<Void, any Error>,
                 publicURL: String, logonURL: String, publicationURL: String, reverseProxyURL: String?) {
        self.ra = ra
        self.clock = clock
        self.directory = directory
        self.group = group
        self.task = task
        self.publicURL = publicURL
        self.logonURL = logonURL
        self.publicationURL = publicationURL
        self.reverseProxyURL = reverseProxyURL
    }

    /// Stops the listeners, closes the database and removes the data folder.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        await ra.shutdown()
        directory.remove()
    }

    /// The port of a listener's base URL.
    public func port(_ url: String) -> Int { Int(url.split(separator: ":").last ?? "") ?? 0 }

    /// The CA folder (certificates and keys) of this server.
    public var caDirectory: URL { ra.configuration.caDirectory }
}

/// Collects the bound port of each listener as it starts.
final class PortCollector: Sendable {
    private let ports = NIOLockedValueBox<[WebServer.Listener: Int]>([:])

    func record(_ listener: WebServer.Listener, _ port: Int) { ports.withLockedValue { $0[listener] = port } }

    /// Waits for the four listeners (five in reverse-proxy mode); fails early if the server task ends (e.g. a port was taken).
    func wait(while task: Task<Void, any Error>, reverseProxy: Bool) async throws -> [WebServer.Listener: Int] {
        let finished = NIOLockedValueBox(false)
        let watcher = Task { _ = try? await task.value; finished.withLockedValue { $0 = true } }
        defer { watcher.cancel() }
        for _ in 0..<800 {
            let snapshot = ports.withLockedValue { $0 }
            if [WebServer.Listener.publicSite, .logonSite, .publication, .operations].allSatisfy({ snapshot[$0] != nil }),
               reverseProxy == (snapshot[.reverseProxy] != nil) { return snapshot }
            if finished.withLockedValue({ $0 }) { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        task.cancel()
        throw BizDirectError.internal("test.start", "The server did not start (port taken, or slower than 20 seconds).")
    }
}
