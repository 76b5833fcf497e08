import BizDirectCore
import Foundation

/// A PostgreSQL server of the test's own (initdb in a temporary folder, 127.0.0.1 on a free
/// port), for tests that restart or stop the database under load, which a shared server
/// cannot allow. Run as root (CI), the server runs as the `postgres` user, as `pg_ctl` demands.
public final class PostgresCluster: Sendable {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    public let url: String
    let bin: String
    let root: URL
    let port: Int

    /// The newest `/usr/lib/postgresql/*/bin` holding `pg_ctl`, or nil.
    public static var binDirectory: String? {
        let base = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        return versions.compactMap(Int.init).sorted().reversed().map { "\(base)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: "\($0)/pg_ctl") }
    }

    /// Whether a cluster can be made here (always required in CI).
    public static var available: Bool { ProcessInfo.processInfo.environment["CI"] != nil || binDirectory != nil }

    private init(bin: String, root: URL, port: Int) {
        self.bin = bin
        self.root = root
        self.port = port
        url = "postgres://postgres@127.0.0.1:\(port)/postgres"
    }

    /// Makes and starts a cluster in a new temporary folder.
    public static func start() async throws -> PostgresCluster {
        guard let bin = binDirectory else { throw BizDirectError.internal("test.noPostgres", "PostgreSQL (pg_ctl) is not installed") }
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("bizdirect-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let cluster = PostgresCluster(bin: bin, root: root, port: FreePort.find())
        if getuid() == 0 {
            _ = try await ExternalTool.run("/bin/chown", ["postgres:postgres", root.path])
        }
        try await cluster.pg(["\(bin)/initdb", "-D", "\(root.path)/data", "-A", "trust", "-U", "postgres", "-E", "UTF8"])
        try await cluster.control("start")
        return cluster
    }

    /// Restarts the server (fast shutdown: open connections are cut, as in a failover).
    public func restart() async throws { try await control("restart", "-m", "fast") }

    /// Stops the server and deletes its folder.
    public func destroy() async {
        try? await control("stop", "-m", "immediate")
        try? FileManager.default.removeItem(at: root)
    }

    private func control(_ arguments: String...) async throws {
        try await pg(["\(bin)/pg_ctl", "-D", "\(root.path)/data", "-l", "\(root.path)/server.log", "-w", "-t", "60",
                      "-o", "-h 127.0.0.1 -p \(port) -k \(root.path) -c max_connections=200"] + arguments)
    }

    /// Runs a PostgreSQL tool (bounded by `timeout 90`), as the postgres user when this process is
    /// root, through `system(3)` on a thread of its own. Not Foundation's `Process`: the server
    /// that `pg_ctl start` leaves behind keeps `Process` from ever seeing `su` end. Output goes to
    /// a file, quoted when the tool fails.
    private func pg(_ command: [String]) async throws {
        let output = root.appendingPathComponent("tool.log").path
        func quote(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var line = "timeout 90 " + command.map(quote).joined(separator: " ")
        if getuid() == 0 { line = "su postgres -s /bin/sh -c \(quote(line))" }
        line += " </dev/null >\(quote(output)) 2>&1"
        let shellLine = line
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            Thread { continuation.resume(returning: system(shellLine)) }.start()
        }
        guard status == 0 else {
            let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw BizDirectError.internal("test.postgres", "\(URL(fileURLWithPath: command[0]).lastPathComponent) failed (\(status)): \(printed.suffix(600))")
        }
    }
}
