import BizDirectCore
import Crypto
import CryptoExtras
import Foundation
import NIOPosix

/// Hashes PINs with scrypt, a per-secret salt and a server-side pepper, off the event loops.
///
/// Stored form: `scrypt$<logN>$<r>$<p>$<salt b64>$<hash b64>`, so parameters can change
/// without breaking old hashes.
public struct PINHasher: Sendable {
    let pepper: [UInt8]
    let logN: Int
    let random: any RandomSource
    static let blockSize = 8, parallelism = 1

    /// Makes a hasher with `pepper` (kept beside the CA keys) and cost N = 2^logN.
    public init(pepper: [UInt8], logN: Int, random: any RandomSource) {
        self.pepper = pepper
        self.logN = logN
        self.random = random
    }

    /// Hashes a new PIN with a fresh salt.
    public func hash(_ pin: PIN) async throws -> String {
        let salt = random.bytes(16)
        let derived = try await derive(pin, salt: salt, logN: logN, r: Self.blockSize, p: Self.parallelism)
        return "scrypt$\(logN)$\(Self.blockSize)$\(Self.parallelism)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// Checks `pin` against a stored hash in constant time. A nil hash (unknown person) is
    /// checked against a dummy so that the time taken does not reveal it.
    public func verify(_ pin: PIN, against stored: String?) async throws -> Bool {
        let parts = (stored ?? dummyHash).split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
              let salt = Data(base64Encoded: parts[4]), let expected = Data(base64Encoded: parts[5]) else { return false }
        let derived = try await derive(pin, salt: Array(salt), logN: n, r: r, p: p)
        let same = ConstantTime.equal(derived, Array(expected))
        return stored != nil && same
    }

    private var dummyHash: String {
        "scrypt$\(logN)$\(Self.blockSize)$\(Self.parallelism)$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    }

    private func derive(_ pin: PIN, salt: [UInt8], logN: Int, r: Int, p: Int) async throws -> [UInt8] {
        let input = Array(pin.secret.utf8) + [0] + pepper
        return try await NIOThreadPool.singleton.runIfActive {
            let key = try KDF.Scrypt.deriveKey(from: input, salt: salt, outputByteCount: 32, rounds: 1 << logN,
                                                blockSize: r, parallelism: p, maxMemory: 256 * 1024 * 1024)
            return key.withUnsafeBytes { Array($0) }
        }
    }

    /// HMAC-SHA256 of a high-entropy secret (one-time codes) under the pepper: a lookup key
    /// that needs no slow hash because the secret itself cannot be guessed.
    public func keyedHash(_ secret: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(TextNormaliser.normalise(secret).uppercased().utf8), using: SymmetricKey(data: pepper)))
    }

}
