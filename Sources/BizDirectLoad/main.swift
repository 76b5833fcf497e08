import BizDirectCore
import Foundation
import Logging
import RegistrationAuthority

// The load benchmark's own tool (`benchmarks/load` drives it; run it in release mode). Commands:
//   seed     --data DIR --database-url URL --holders N --sample K --out DIR
//            K real users through the RA (onboarding, registration, acquisition; keys and
//            certificates written to DIR for the load client), then N−K filler holders with one
//            certificate each by bulk insert; prints its own rate.
//   sessions --data DIR --database-url URL --count N --out DIR
//            N live sessions bound to the sample certificates; tokens written to DIR/sessions.txt.
//   ocsp     --data DIR --database-url URL --requests N
//            the CA's own signed-response rate (the anchor), then floods through the RA: one
//            serial, and distinct stored serials, 64 requests in flight.
//   crl      --data DIR --database-url URL --revoke N
//            revokes N filler certificates and times one CRL publication.
//   pin-hash --count N      the server's PIN hash (PINHasher, default cost), milliseconds each.
// Every loop is bounded by its count; nothing listens on the network.

/// The value of `--name` in the command line, or nil.
func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: "--\(name)"), arguments.indices.contains(index + 1) else { return nil }
    return arguments[index + 1]
}

/// A required option, or a one-line error and exit 2.
func required(_ name: String) -> String {
    guard let value = option(name) else {
        FileHandle.standardError.write(Data("bizdirect-load: --\(name) is required\n".utf8))
        exit(2)
    }
    return value
}

/// Seconds since `start`.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Runs `body` with the RA over the benchmark's data folder and database, and closes it after.
func withRA<T>(_ body: (RegistrationAuthority) async throws -> T) async throws -> T {
    try await openRA().closing(body)
}

/// The RA over the benchmark's data folder and database, as `bizdirect serve` opens it.
private func openRA() async throws -> RegistrationAuthority {
    let data = URL(fileURLWithPath: required("data"))
    try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
    var configuration = BizDirectConfiguration(dataDirectory: data)
    configuration.databaseURL = required("database-url")
    configuration.hostNames = ["localhost", "127.0.0.1"]
    configuration.httpPort = Int(option("http-port") ?? "") ?? 18080
    configuration.scryptLogN = Int(option("scrypt-log-n") ?? "") ?? configuration.scryptLogN
    // The seed acquires 32 certificates for one contract at once; the per-account limit (10 a
    // minute per contract ID) is for guessing, not for the bank's own tool.
    configuration.attemptsPerAccountPerMinute = 10_000
    configuration.attemptsPerMinute = 10_000
    var logger = Logger(label: "bizdirect-load")
    logger.logLevel = .error
    return try await RegistrationAuthority.open(configuration: configuration, logger: logger)
}

let command = CommandLine.arguments.dropFirst().first ?? ""
do {
    switch command {
    case "seed": try await Seeder.seed()
    case "sessions": try await Seeder.sessions()
    case "ocsp": try await Floods.ocsp()
    case "crl": try await Floods.crl()
    case "pin-hash": try await Floods.pinHash()
    default:
        FileHandle.standardError.write(Data("usage: bizdirect-load seed|sessions|ocsp|crl|pin-hash [options] (see Sources/BizDirectLoad/main.swift)\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("bizdirect-load \(command): \(error)\n".utf8))
    exit(1)
}
