import ArgumentParser
import BizDirectCore
import Foundation
import Logging
import RegistrationAuthority
import ServiceLifecycle
import WebFrontEnd

/// `bizdirect`: the logon and certificate service for Business Direct.
@main
struct BizDirectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bizdirect",
        abstract: "Business Direct logon and certificate service.",
        subcommands: [Serve.self, Init.self, Staff.self, Audit.self, CA.self, CertificateCommand.self],
        defaultSubcommand: Serve.self)

    /// Runs the command. A refusal (`BizDirectError`) is one line naming its cause and reason key,
    /// exit status 1; only mistakes in the command line itself print the usage.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as BizDirectError {
            FileHandle.standardError.write(Data("bizdirect: \(error.detail) [\(error.reason)]\n".utf8))
            Foundation.exit(error.kind == .internal ? 2 : 1)
        } catch {
            exit(withError: error)
        }
    }
}

/// `bizdirect serve`: the three listeners.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the public site, the certificate-logon site and publication (the default).")
    @OptionGroup var settings: Settings

    func run() async throws {
        let logger = Logger(label: "bizdirect")
        let configuration = try settings.resolve()
        let ra = try await CompositionRoot.openRA(configuration, logger: logger)
        let server = WebServer(ra: ra, logger: logger) { listener, port in
            logger.info("listening", metadata: ["listener": "\(listener.rawValue)", "port": "\(port)"])
        }
        CompositionRoot.printBanner(configuration, ra: ra)
        do {
            let group = ServiceGroup(configuration: .init(services: try await server.services(), gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch {
            // A listener that cannot bind (port in use, address not here) ends start-up with one
            // line and exit status 1, after the database is closed (never an assertion trap).
            await ra.shutdown()
            FileHandle.standardError.write(Data("bizdirect: cannot serve: \(error)\n".utf8))
            throw ExitCode(1)
        }
        await ra.shutdown()
    }
}

/// `bizdirect init`: prepare a data folder (CA, database) without serving.
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Prepare a data folder: make the CA and the database, then exit.")
    @OptionGroup var settings: Settings

    func run() async throws {
        try await CompositionRoot.withRA(settings) { ra in
            print("Data folder ready: \(ra.configuration.dataDirectory.path)")
            print("Root CA SHA-256 fingerprint: \(ra.tlsMaterial.rootFingerprint)")
        }
    }
}

/// `bizdirect audit verify`.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Work with the audit chain.", subcommands: [Verify.self, Head.self])

    /// Prints the chain head for safe keeping off the host.
    struct Head: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the newest audit event as SEQ:HASH, to keep off this host.",
            discussion: "The hash chain shows edits, insertions and deletions, but not a rewrite of the whole chain by someone with write access to the database. Send this line regularly to a place that person cannot reach (the bank's log server, a ticket, paper); later, `bizdirect audit verify --anchor SEQ:HASH` proves that the chain still holds it.")
        @OptionGroup var settings: Settings

        func run() async throws {
            guard let head = try await CompositionRoot.withRA(settings, { try await $0.auditHead() }) else {
                print("the audit chain is empty")
                throw ExitCode(1)
            }
            print(head)
        }
    }

    /// Re-computes the chain and names every broken event.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the audit chain; exits 1 and names the event when it was edited, inserted or deleted.")
        @OptionGroup var settings: Settings
        @Option(name: .customLong("anchor"), help: "A head printed earlier by `bizdirect audit head` (SEQ:HASH); the chain must still hold it. Repeatable.")
        var anchors: [String] = []

        func run() async throws {
            let parsed = try anchors.map { text in
                guard let anchor = AuditAnchor(text) else { throw ValidationError("--anchor \(text): expected SEQ:HASH as `bizdirect audit head` prints it.") }
                return anchor
            }
            let result = try await CompositionRoot.withRA(settings) { try await $0.verifyAuditChain(anchors: parsed) }
            if result.isIntact {
                print("audit chain intact: \(result.count) events")
            } else {
                result.problems.forEach { print($0) }
                print("audit chain BROKEN: \(result.problems.count) problem(s) in \(result.count) events")
                throw ExitCode(1)
            }
        }
    }
}

/// `bizdirect staff add`.
struct Staff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage bank staff.", subcommands: [Add.self, Unlock.self])

    /// Break-glass: releases a staff member's PIN lock when no supervisor can log on to do it.
    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release a staff member's PIN lock (audited).",
            discussion: "Supervisors unlock staff in the branch console (Staff). Use this only when no other supervisor can log on, e.g. the only supervisor is locked.")
        @OptionGroup var settings: Settings
        @Argument(help: "The staff ID, e.g. S0001.") var staffID: String

        func run() async throws {
            let unlocked = try await CompositionRoot.withRA(settings) { ra in
                try await ra.staff.unlockFromCommandLine(staffID: staffID, actor: "cli:\(NSUserName())")
            }
            print("\(unlocked) is unlocked; the audit chain records it.")
        }
    }

    /// Bootstraps the first two supervisors (after that, staff are added by request and approval).
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bootstrap a bank staff member: the first two supervisors, before dual control can work.",
            discussion: """
                Without --csr, prints the staff ID and a one-time acquisition code; the staff member acquires their \
                certificate in the browser and chooses their own PIN there. With --csr, issues the certificate at once, \
                in the same transaction (a refused request leaves nothing behind); the PIN is then read from \
                BIZDIRECT_STAFF_PIN or standard input and must be changed at the first logon. Once two active \
                supervisors exist this command refuses: add staff in the branch console (Staff), by a request that \
                another supervisor approves.
                """)
        @OptionGroup var settings: Settings
        @Option(help: "clerk (records requests) or supervisor (approves them).") var role: String = "supervisor"
        @Argument(help: "The staff member's name.") var name: String
        @Option(help: "A PKCS#10 request (PEM or DER) made with the staff member's own key (e.g. openssl req -new): issue the certificate now.")
        var csr: String?
        @Option(help: "Where to write the issued certificate (PEM) when --csr is given.") var certificateOut: String?

        func run() async throws {
            guard let role = Role(rawValue: role), role.isStaff else {
                throw ValidationError("--role must be clerk or supervisor.")
            }
            var request: [UInt8]?
            var pin: PIN?
            if let csr {
                guard let bytes = FileManager.default.contents(atPath: csr) else { throw ValidationError("Cannot read \(csr).") }
                request = Array(bytes)
                pin = PIN(ProcessInfo.processInfo.environment["BIZDIRECT_STAFF_PIN"] ?? readLine(strippingNewline: true) ?? "")
            }
            try await CompositionRoot.withRA(settings) { ra in
                let member = try await ra.staff.bootstrap(name: name, role: role, pin: pin, csr: request, actor: "cli:\(NSUserName())")
                print("Staff ID: \(member.staffID) (\(role.rawValue))")
                if let code = member.acquisitionCode {
                    print("One-time acquisition code: \(code)")
                    print("Give the code to \(name) in person; it is shown only once. They choose their PIN when they acquire.")
                }
                if let issued = member.certificate {
                    let out = certificateOut ?? "\(member.staffID).cert.pem"
                    try Data(issued.pem.utf8).write(to: URL(fileURLWithPath: out))
                    print("Certificate \(issued.serialHex) written to \(out). The PIN must be changed at the first logon.")
                }
            }
        }
    }
}
