import BizDirectCore
import Foundation

/// A real `bizdirect serve` process on 127.0.0.1, for tests that kill it, run several, or read
/// what it prints at start-up.
///
/// The ports come from `FreePort`, which releases the port it found; under a parallel test run
/// another socket can take it before the server binds. A start whose process ends with the
/// server's own "cannot serve: … address already in use" line is therefore retried on fresh ports (up to three times).
/// Whatever the process prints goes to a file, and a start that fails quotes it.
public final class ServerProcess: @unchecked Sendable {
    public let process: Process
    public let publicPort: Int
    public let logonPort: Int
    public let httpPort: Int
    /// The operations listener's port (`/health/ready`).
    public let operationsPort: Int
    /// Where the process's standard output and error go.
    public let outputPath: String

    /// The `bizdirect` executable built beside the test bundle, or nil when it was not built.
    public static var executable: String? {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [directory, directory.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("bizdirect").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Whether the built `bizdirect` executable is there (always required in CI).
    public static var available: Bool { ProcessInfo.processInfo.environment["CI"] != nil || executable != nil }

    private init(process: Process, ports: (Int, Int, Int, Int), outputPath: String) {
        self.process = process
        (publicPort, logonPort, httpPort, operationsPort) = ports
        self.outputPath = outputPath
    }

    /// What the process printed so far.
    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Runs `bizdirect` with `arguments` to its end (a CLI command) and returns its status and output.
    public static func command(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)) async throws -> (status: Int32, output: String) {
        guard let executable else { throw BizDirectError.internal("test.noExecutable", "swift build makes the bizdirect executable") }
        if environment.isEmpty { return try await ExternalTool.run(executable, arguments, timeout: timeout) }
        let env = ExternalTool.find("env") ?? "/usr/bin/env"
        return try await ExternalTool.run(env, environment.map { "\($0.key)=\($0.value)" } + [executable] + arguments, timeout: timeout)
    }

    /// Starts `bizdirect serve --data DIRECTORY --database-url URL` plus `extra` arguments and
    /// waits (up to `deadline`) until its logon listener answers a TLS request.
    ///
    /// If the process exits before that, throws with everything it printed, so a refusal at
    /// start-up can be asserted on (see `startExpectingRefusal`).
    public static func start(directory: URL, databaseURL: String, extra: [String] = [], environment: [String: String] = [:],
                             deadline: Duration = .seconds(60)) async throws -> ServerProcess {
        guard let executable else { throw BizDirectError.internal("test.noExecutable", "swift build makes the bizdirect executable") }
        guard let curl = ExternalTool.find("curl") else { throw BizDirectError.internal("test.noCurl", "curl is needed") }
        var lastOutput = ""
        for attempt in 0..<3 {
            let ports = (FreePort.find(), FreePort.find(), FreePort.find(), FreePort.find())
            let outputPath = directory.appendingPathComponent("serve-\(ports.1)-\(attempt).log").path
            FileManager.default.createFile(atPath: outputPath, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["serve", "--data", directory.path, "--public-port", "\(ports.0)", "--logon-port", "\(ports.1)",
                                 "--http-port", "\(ports.2)", "--ops-port", "\(ports.3)", "--database-url", databaseURL] + extra
            var merged = ProcessInfo.processInfo.environment
            merged.merge(environment) { $1 }
            process.environment = merged
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            try? handle.close()
            let server = ServerProcess(process: process, ports: ports, outputPath: outputPath)
            let clock = ContinuousClock()
            let end = clock.now + deadline
            while clock.now < end, process.isRunning {
                let answer = try? await ExternalTool.run(curl, ["-sk", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}",
                                                                 "https://127.0.0.1:\(ports.1)/logon"], timeout: .seconds(10))
                if let code = answer?.output, code != "000", !code.isEmpty { return server }
                try await Task.sleep(for: .milliseconds(200))
            }
            if process.isRunning {
                server.kill()
                throw BizDirectError.internal("test.serverSlow", "bizdirect serve did not answer within \(deadline). It printed: \(server.output)")
            }
            await ExternalTool.waitForExit(process)
            lastOutput = server.output
            // Only a port taken between FreePort and bind is retried; any other exit is the answer.
            guard lastOutput.contains("cannot serve"), lastOutput.localizedCaseInsensitiveContains("address already in use") else { break }
        }
        throw BizDirectError.internal("test.serverExited", "bizdirect serve exited at start-up. It printed: \(lastOutput)")
    }

    /// Starts `bizdirect serve` expecting it to refuse to start; returns its exit status and output.
    public static func startExpectingRefusal(directory: URL, databaseURL: String, extra: [String] = [],
                                             environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let arguments = ["serve", "--data", directory.path, "--public-port", "\(FreePort.find())", "--logon-port", "\(FreePort.find())",
                         "--http-port", "\(FreePort.find())", "--ops-port", "\(FreePort.find())", "--database-url", databaseURL] + extra
        return try await command(arguments, environment: environment, timeout: .seconds(60))
    }

    /// Sends SIGKILL (if still running) and waits for the process to end.
    public func kill(signal: Int32 = SIGKILL) {
        if process.isRunning { Foundation.kill(process.processIdentifier, signal) }
    }

    /// Sends `signal` and waits until the process has ended.
    public func stop(signal: Int32 = SIGKILL) async {
        kill(signal: signal)
        await ExternalTool.waitForExit(process)
    }
}
