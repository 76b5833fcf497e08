import BizDirectCore
import Foundation
import NIOConcurrencyHelpers

/// Runs tools nobody here wrote (openssl, pkilint, curl) to cross-check what the CA and the server emit.
///
/// A tool runs on a thread of its own, never on a thread of Swift's cooperative pool: that pool has one
/// thread per core (two on CI), and a test blocked there while its tool talks to the in-process server
/// would starve the very server it waits for. Every run also has a deadline after which the tool is killed,
/// so a test can fail but never hang.
public enum ExternalTool {
    /// The full path of `name` on PATH, or nil.
    public static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs a tool and returns its exit status and combined output; throws if it outlives `timeout`.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try runOnThisThread(executable, arguments, timeout: timeout) })
            }
            thread.name = "ExternalTool \(URL(fileURLWithPath: executable).lastPathComponent)"
            thread.start()
        }
    }

    /// Waits for a process started elsewhere (e.g. a server under test) without blocking the cooperative pool.
    public static func waitForExit(_ process: Process) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread { process.waitUntilExit(); continuation.resume() }.start()
        }
    }

    private static func runOnThisThread(_ executable: String, _ arguments: [String], timeout: Duration) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let killed = NIOLockedValueBox(false)
        let watchdog = DispatchWorkItem {
            guard process.isRunning else { return }
            killed.withLockedValue { $0 = true }
            kill(process.processIdentifier, SIGKILL)
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: watchdog)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        let output = String(decoding: data, as: UTF8.self)
        if killed.withLockedValue({ $0 }) {
            let name = URL(fileURLWithPath: executable).lastPathComponent
            throw BizDirectError.internal("test.toolTimeout", "\(name) did not finish within \(timeout) and was killed. Output: \(output)")
        }
        return (process.terminationStatus, output)
    }

    /// Whether a test that needs these tools should run: when they are all installed, and always
    /// in CI (where a missing tool then fails the test instead of skipping it). Use it in an
    /// `.enabled(if:)` trait, so a skip shows as a skip, with its reason.
    public static func available(_ tools: String...) -> Bool {
        ProcessInfo.processInfo.environment["CI"] != nil || tools.allSatisfy { find($0) != nil }
    }
}
