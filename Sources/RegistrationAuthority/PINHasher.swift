import BizDirectCore
import Crypto
import CryptoExtras
import Foundation
import NIOPosix
import Synchronization

/// Hashes PINs with scrypt, a per-secret salt and a server-side pepper, off the event loops.
///
/// Stored form: `scrypt$<logN>$<r>$<p>$<salt b64>$<hash b64>`, so parameters can change
/// without breaking old hashes.
public struct PINHasher: Sendable {
    let pepper: [UInt8]
    let logN: Int
    let random: any RandomSource
    /// Bounds the hashes running and waiting (each costs 128·r·N bytes, 32 MiB at N = 2^15).
    let gate: HashGate
    static let blockSize = 8, parallelism = 1

    /// Makes a hasher with `pepper` (kept beside the CA keys) and cost N = 2^logN.
    public init(pepper: [UInt8], logN: Int, random: any RandomSource, gate: HashGate = HashGate(capacity: 64, anonymousShare: 32)) {
        self.pepper = pepper
        self.logN = logN
        self.random = random
        self.gate = gate
    }

    /// Hashes a new PIN with a fresh salt. `anonymous` as for `verify` (a staff member choosing
    /// their PIN while acquiring has no certificate yet).
    public func hash(_ pin: PIN, anonymous: Bool = false) async throws -> String {
        let salt = random.bytes(16)
        let derived = try await derive(pin, salt: salt, logN: logN, r: Self.blockSize, p: Self.parallelism, anonymous: anonymous)
        return "scrypt$\(logN)$\(Self.blockSize)$\(Self.parallelism)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// Checks `pin` against a stored hash in constant time. A nil hash (unknown person) is
    /// checked against a dummy so that the time taken does not reveal it.
    /// `anonymous` marks a caller who has shown no certificate (acquisition): such callers share
    /// only part of the hashing capacity, so logons in progress always find room.
    public func verify(_ pin: PIN, against stored: String?, anonymous: Bool = false) async throws -> Bool {
        let parts = (stored ?? dummyHash).split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
              let salt = Data(base64Encoded: parts[4]), let expected = Data(base64Encoded: parts[5]) else { return false }
        guard (10...20).contains(n), r == Self.blockSize, p == Self.parallelism else { return false }
        let derived = try await derive(pin, salt: Array(salt), logN: n, r: r, p: p, anonymous: anonymous)
        let same = ConstantTime.equal(derived, Array(expected))
        return stored != nil && same
    }

    private var dummyHash: String {
        "scrypt$\(logN)$\(Self.blockSize)$\(Self.parallelism)$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    }

    private func derive(_ pin: PIN, salt: [UInt8], logN: Int, r: Int, p: Int, anonymous: Bool) async throws -> [UInt8] {
        let input = Array(pin.secret.utf8) + [0] + pepper
        try gate.enter(anonymous: anonymous)
        defer { gate.leave(anonymous: anonymous) }
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

/// Admission to PIN hashing: at most `capacity` hashes running or waiting, of which at most
/// `anonymousShare` for callers without a certificate. Past that the caller is told to retry
/// (HTTP 503 with Retry-After), so a flood queues nothing and costs no memory.
public final class HashGate: Sendable {
    /// Hashes running or waiting, at most.
    public let capacity: Int
    /// Of those, at most this many for anonymous callers.
    public let anonymousShare: Int
    private let inUse = Mutex<(total: Int, anonymous: Int)>((0, 0))

    /// Makes a gate; `anonymousShare` is clamped to `capacity - 1`, so one place is always left for a logon.
    public init(capacity: Int, anonymousShare: Int) {
        self.capacity = max(1, capacity)
        self.anonymousShare = max(0, min(anonymousShare, self.capacity - 1))
    }

    /// Takes a place, or refuses with `unavailable` when there is none.
    public func enter(anonymous: Bool) throws(BizDirectError) {
        let admitted = inUse.withLock { state in
            guard state.total < capacity, !anonymous || state.anonymous < anonymousShare else { return false }
            state.total += 1
            if anonymous { state.anonymous += 1 }
            return true
        }
        guard admitted else {
            throw .unavailable("request.busy", "The service is busy. Wait a few seconds and try again.")
        }
    }

    /// Gives a place back.
    public func leave(anonymous: Bool) {
        inUse.withLock { state in
            state.total -= 1
            if anonymous { state.anonymous -= 1 }
        }
    }

    /// Hashes running or waiting now (for metrics and tests).
    public var depth: Int { inUse.withLock { $0.total } }
}
