import BizDirectCore
import Crypto
import CryptoExtras
import Foundation
import SwiftASN1

/// Reads and writes owner-only secret files: PKCS#8 PEM private keys and raw secrets such as
/// the PIN pepper, each encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) when a
/// passphrase is set. Every file is written atomically (see `writeAtomically`).
public struct KeyFile: Sendable {
    /// The passphrase protecting keys on disk, or nil to store them unencrypted.
    public let passphrase: String?
    /// PBKDF2 rounds for files written from now on (files carry their own count, so any file
    /// reads back whatever it was written with).
    public let rounds: Int
    /// 600,000 (OWASP's figure for PBKDF2-HMAC-SHA256).
    public static let defaultRounds = 600_000

    /// Makes a key-file reader/writer.
    public init(passphrase: String?, rounds: Int = KeyFile.defaultRounds) {
        self.passphrase = passphrase
        self.rounds = rounds
    }

    /// Writes `pkcs8` as PEM (encrypted when a passphrase is set) with mode 0600.
    public func writeKey(_ pkcs8: [UInt8], to url: URL) throws(BizDirectError) {
        try Self.writeOwnerOnly(Array(try keyPEM(pkcs8).utf8), to: url)
    }

    /// `pkcs8` as PEM text, encrypted when a passphrase is set.
    public func keyPEM(_ pkcs8: [UInt8]) throws(BizDirectError) -> String {
        guard let passphrase else { return PEMText.encode(pkcs8, label: "PRIVATE KEY") }
        return PEMText.encode(try encrypt(pkcs8, passphrase: passphrase), label: "ENCRYPTED PRIVATE KEY")
    }

    /// Reads a PEM private key written by `writeKey`, returning PKCS#8 DER.
    public func readKey(at url: URL) throws(BizDirectError) -> [UInt8] {
        try readKey(text: Self.readText(url), name: url.lastPathComponent)
    }

    /// The PKCS#8 DER of the (possibly encrypted) private key in PEM `text` from the file `name`.
    public func readKey(text: String, name: String) throws(BizDirectError) -> [UInt8] {
        if let der = PEMText.decode(text, label: "PRIVATE KEY") {
            return der
        }
        guard let der = PEMText.decode(text, label: "ENCRYPTED PRIVATE KEY") else {
            throw .internal("ca.keyDamaged", "The key in \(name) is damaged.")
        }
        guard let passphrase else {
            throw .internal("ca.passphraseMissing", "The key in \(name) is encrypted; set BIZDIRECT_KEY_PASSPHRASE.")
        }
        return try decrypt(der, passphrase: passphrase, name: name)
    }

    /// Writes a secret (the PIN pepper, the card-grid key) as PEM, encrypted under the
    /// passphrase when one is set, so that a copied data folder does not give it away.
    public func writeSecret(_ secret: [UInt8], to url: URL) throws(BizDirectError) {
        let pem: String
        if let passphrase {
            pem = PEMText.encode(try encrypt(secret, passphrase: passphrase), label: "ENCRYPTED BIZDIRECT SECRET")
        } else {
            pem = PEMText.encode(secret, label: "BIZDIRECT SECRET")
        }
        try Self.writeOwnerOnly(Array(pem.utf8), to: url)
    }

    /// Reads a secret written by `writeSecret` (or, from before secrets were PEM, the raw bytes).
    /// Returns nil when the file does not exist.
    public func readSecret(at url: URL) throws(BizDirectError) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        if let plain = PEMText.decode(text, label: "BIZDIRECT SECRET") { return plain }
        if let sealed = PEMText.decode(text, label: "ENCRYPTED BIZDIRECT SECRET") {
            guard let passphrase else {
                throw .internal("ca.passphraseMissing", "\(url.lastPathComponent) is encrypted; set BIZDIRECT_KEY_PASSPHRASE.")
            }
            return try decrypt(sealed, passphrase: passphrase, name: url.lastPathComponent)
        }
        return Array(data)
    }

    /// Whether the file at `url` is stored encrypted (a key or a secret).
    public static func isEncrypted(_ url: URL) -> Bool {
        (try? readText(url)).map { $0.contains("-----BEGIN ENCRYPTED ") } ?? false
    }

    /// Writes bytes owner-only (0600) so that no reader ever sees a half-written file or a
    /// moment of wider permissions: a temporary file is created with mode 0600 (O_EXCL),
    /// written, fsynced, then renamed over `url`, and the folder is fsynced.
    public static func writeOwnerOnly(_ bytes: [UInt8], to url: URL) throws(BizDirectError) {
        try writeAtomically(bytes, to: url, mode: 0o600)
    }

    /// Writes bytes atomically with `mode` (public certificates use 0644): temporary file,
    /// fsync, rename, fsync of the folder. On any failure the old file stays as it was.
    public static func writeAtomically(_ bytes: [UInt8], to url: URL, mode: mode_t) throws(BizDirectError) {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        unlink(temporary.path)
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .internal("ca.writeFailed", "Could not write \(url.lastPathComponent) in \(url.deletingLastPathComponent().path).") }
        var written = 0
        let complete = bytes.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress.map { $0 + written }, buffer.count - written)
                if n <= 0 { return false }
                written += n
            }
            return true
        }
        let synced = complete && fchmod(fd, mode) == 0 && fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw .internal("ca.writeFailed", "Could not write \(url.lastPathComponent) in \(url.deletingLastPathComponent().path).")
        }
        let folder = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 { _ = fsync(folder); close(folder) }
    }

    /// Reads a UTF-8 text file or fails with a message naming it.
    public static func readText(_ url: URL) throws(BizDirectError) -> String {
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
            throw .internal("ca.fileMissing", "\(url.lastPathComponent) is missing or unreadable in \(url.deletingLastPathComponent().path).")
        }
        return text
    }

    private static let pbes2: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 5, 13]
    private static let pbkdf2: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 5, 12]
    private static let hmacSHA256: ASN1ObjectIdentifier = [1, 2, 840, 113549, 2, 9]
    private static let aes256CBC: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 1, 42]

    private func deriveKey(_ passphrase: String, salt: [UInt8], rounds: Int) throws -> SymmetricKey {
        try KDF.Insecure.PBKDF2.deriveKey(from: Array(passphrase.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: rounds)
    }

    private func encrypt(_ plaintext: [UInt8], passphrase: String) throws(BizDirectError) -> [UInt8] {
        let salt = SystemRandom().bytes(16), iv = SystemRandom().bytes(16)
        do {
            let key = try deriveKey(passphrase, salt: salt, rounds: rounds)
            let ciphertext = try AES._CBC.encrypt(plaintext, using: key, iv: AES._CBC.IV(ivBytes: iv))
            return try DERHelpers.encode { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        try coder.serialize(Self.pbes2)
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            try coder.appendConstructedNode(identifier: .sequence) { coder in
                                try coder.serialize(Self.pbkdf2)
                                try coder.appendConstructedNode(identifier: .sequence) { coder in
                                    try coder.serialize(ASN1OctetString(contentBytes: salt[...]))
                                    try coder.serialize(rounds)
                                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                                        try coder.serialize(Self.hmacSHA256)
                                        try coder.serialize(ASN1Null())
                                    }
                                }
                            }
                            try coder.appendConstructedNode(identifier: .sequence) { coder in
                                try coder.serialize(Self.aes256CBC)
                                try coder.serialize(ASN1OctetString(contentBytes: iv[...]))
                            }
                        }
                    }
                    try coder.serialize(ASN1OctetString(contentBytes: Array(ciphertext)[...]))
                }
            }
        } catch {
            throw .internal("ca.encryptFailed", "Could not encrypt a key.")
        }
    }

    private func decrypt(_ der: [UInt8], passphrase: String, name: String) throws(BizDirectError) -> [UInt8] {
        do {
            let root = try DER.parse(der)
            let (salt, rounds, iv, ciphertext) = try DER.sequence(root, identifier: .sequence) { nodes in
                let params = try DERReader.children(of: nodes.next())
                guard params.count == 2, try ASN1ObjectIdentifier(derEncoded: params[0]) == Self.pbes2 else { throw ASN1Error.invalidASN1Object(reason: "not PBES2") }
                let (salt, rounds, iv) = try DER.sequence(params[1], identifier: .sequence) { pbes in
                    let (salt, rounds) = try DER.sequence(try DERReader.required(&pbes, "keyDerivationFunc"), identifier: .sequence) { kdf in
                        _ = try ASN1ObjectIdentifier(derEncoded: &kdf)
                        return try DER.sequence(try DERReader.required(&kdf, "PBKDF2-params"), identifier: .sequence) { p in
                            let values = (try ASN1OctetString(derEncoded: &p).bytes, try Int(derEncoded: &p))
                            while p.next() != nil {} // keyLength and prf (HMAC-SHA256, as written)
                            return values
                        }
                    }
                    let iv = try DER.sequence(try DERReader.required(&pbes, "encryptionScheme"), identifier: .sequence) { enc in
                        guard try ASN1ObjectIdentifier(derEncoded: &enc) == Self.aes256CBC else { throw ASN1Error.invalidASN1Object(reason: "not AES-256-CBC") }
                        return try ASN1OctetString(derEncoded: &enc).bytes
                    }
                    return (salt, rounds, iv)
                }
                return (salt, rounds, iv, try ASN1OctetString(derEncoded: &nodes).bytes)
            }
            // A damaged or hostile file must not make start-up spin: PBKDF2 rounds are bounded.
            guard (1...10_000_000).contains(rounds) else { throw ASN1Error.invalidASN1Object(reason: "PBKDF2 rounds out of range") }
            let key = try deriveKey(passphrase, salt: Array(salt), rounds: rounds)
            return Array(try AES._CBC.decrypt(ciphertext, using: key, iv: AES._CBC.IV(ivBytes: iv)))
        } catch {
            throw .internal("ca.keyUndecryptable", "The key file \(name) could not be decrypted: wrong passphrase or damaged file.")
        }
    }
}

/// PEM armour (RFC 7468).
public enum PEMText {
    /// Wraps DER bytes in a PEM block with 64-character lines.
    public static func encode(_ der: [UInt8], label: String) -> String {
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(base64)\n-----END \(label)-----\n"
    }

    /// The DER inside the first PEM block with `label`, or nil.
    public static func decode(_ text: String, label: String) -> [UInt8]? {
        guard let begin = text.range(of: "-----BEGIN \(label)-----"),
              let end = text.range(of: "-----END \(label)-----", range: begin.upperBound..<text.endIndex) else { return nil }
        let body = text[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        return Data(base64Encoded: String(body)).map(Array.init)
    }
}
