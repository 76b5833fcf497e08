import BizDirectCore
import Foundation

/// A SoftHSM2 token for the PKCS#11 tests, made once per test process in a temporary folder:
/// `softhsm2-util --init-token`, then EC key pairs made in the token by `pkcs11-tool
/// --keypairgen` (the keys never exist outside it). SoftHSM reads its configuration when the
/// module is first initialised, so every test in the process shares this one token.
public enum SoftHSM {
    /// Debian's module.
    public static let module = "/usr/lib/softhsm/libsofthsm2.so"
    /// The token's label and user PIN.
    public static let tokenLabel = "bizdirect-test", pin = "2468-user"
    /// Key labels made in the token: the issuing CA and OCSP responder (P-256), a root (P-384),
    /// and a second issuing key (a different CA for the binding tests).
    public static let issuingLabel = "bizdirect-issuing-ca", ocspLabel = "bizdirect-ocsp-responder"
    public static let rootLabel = "bizdirect-root-ca", otherIssuingLabel = "other-issuing-ca"

    /// Whether SoftHSM and the OpenSC tools are installed. Under CI (the CI variable set) this
    /// is always true, so that a missing SoftHSM fails the tests instead of skipping them.
    public static var available: Bool {
        ProcessInfo.processInfo.environment["CI"] != nil
            || (FileManager.default.fileExists(atPath: module) && ExternalTool.available("softhsm2-util", "pkcs11-tool"))
    }

    /// One preparation per process (a static is initialised once, even under concurrent first use).
    private static let preparation = Task { try await make() }

    /// The token's settings, making the token on first use.
    public static func settings() async throws -> PKCS11Settings {
        try await preparation.value
    }

    /// The token's folder (one per test process).
    static let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bizdirect-softhsm-\(getpid())")

    /// The environment a `bizdirect` child process needs to see the same token.
    public static var environment: [String: String] { ["SOFTHSM2_CONF": folder.appendingPathComponent("softhsm2.conf").path] }

    private static func make() async throws -> PKCS11Settings {
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tokens"), withIntermediateDirectories: true)
        let conf = folder.appendingPathComponent("softhsm2.conf")
        try Data("directories.tokendir = \(folder.appendingPathComponent("tokens").path)\nobjectstore.backend = file\nlog.level = ERROR\n".utf8).write(to: conf)
        setenv("SOFTHSM2_CONF", conf.path, 1)
        guard let util = ExternalTool.find("softhsm2-util"), let tool = ExternalTool.find("pkcs11-tool") else {
            throw BizDirectError.internal("test.softhsm", "softhsm2-util or pkcs11-tool missing")
        }
        let initialised = try await ExternalTool.run(util, ["--init-token", "--free", "--label", tokenLabel, "--pin", pin, "--so-pin", "1357-so"])
        guard initialised.status == 0 else { throw BizDirectError.internal("test.softhsm", initialised.output) }
        for (label, curve) in [(issuingLabel, "EC:prime256v1"), (ocspLabel, "EC:prime256v1"), (rootLabel, "EC:secp384r1"), (otherIssuingLabel, "EC:prime256v1")] {
            let made = try await ExternalTool.run(tool, ["--module", module, "--token-label", tokenLabel, "--login", "--pin", pin,
                                                        "--keypairgen", "--key-type", curve, "--label", label])
            guard made.status == 0 else { throw BizDirectError.internal("test.softhsm", made.output) }
        }
        return PKCS11Settings(modulePath: module, tokenLabel: tokenLabel, pin: pin)
    }
}
