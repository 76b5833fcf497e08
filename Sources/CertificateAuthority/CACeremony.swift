import BizDirectCore
import Foundation
import X509

/// The operator's CA work done off-line or between starts (`bizdirect ca …`): the root ceremony,
/// the issuing CA's request, signature and installation, moving the root key off the host, and
/// re-encrypting key files under a new passphrase. Each step writes whole files atomically
/// (`KeyFile.writeAtomically`) and can be run again after a crash.
public enum CACeremony {
    /// Where a new issuing key waits, in the CA folder, until its certificate is installed.
    static let pendingIssuingKey = "issuing-ca.next.key"

    /// Makes a new root in `directory` (the offline machine's folder): a software P-384 key
    /// encrypted under `keyFile`, or the token's key labelled `tokenLabel`.
    public static func createRoot(in directory: URL, bankName: String, keyFile: KeyFile, keys: CAKeys, tokenLabel: String,
                                  now: Date) throws(BizDirectError) -> Certificate {
        let tokenSigner = try keys.store?.signer(label: tokenLabel)
        return try RootCA.create(in: directory, bankName: bankName, keyFile: keyFile, now: now, signer: tokenSigner).certificate
    }

    /// Makes the key of a new issuing CA (in the token under `keys.issuingLabel`, or a software
    /// key kept in the CA folder as `issuing-ca.next.key`) and returns its PKCS#10 request (PEM)
    /// for the root ceremony. Run again, it reuses the waiting key. With `renewCurrent`, the
    /// request is for the current key and name instead (a renewal of the same CA).
    public static func requestIssuing(caDirectory: URL, bankName: String, generation: Int, keyFile: KeyFile,
                                      keys: CAKeys, renewCurrent: Bool = false) throws(BizDirectError) -> String {
        if renewCurrent {
            // A renewal: the current key signs a request for the current name.
            let (current, key) = try IdentityFile.read(caDirectory, "issuing-ca", keyFile: keyFile)
            let signer = try keys.signer(for: current, softwareKey: key, label: keys.issuingLabel, file: "issuing-ca.pem")
            return try RootCA.issuingRequest(signer: signer, subject: current.subject)
        }
        do {
            try FileManager.default.createDirectory(at: caDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .internal("ca.writeFailed", "The CA folder \(caDirectory.path) could not be made.")
        }
        let signer: any Signer
        if let store = keys.store {
            signer = try store.signer(label: keys.issuingLabel)
        } else {
            let pending = caDirectory.appendingPathComponent(pendingIssuingKey)
            if FileManager.default.fileExists(atPath: pending.path) {
                signer = try SoftwareSigner(pkcs8DER: keyFile.readKey(at: pending))
            } else {
                let key = SoftwareSigner(generating: .p256)
                try keyFile.writeKey(key.pkcs8DER, to: pending)
                signer = key
            }
        }
        return try RootCA.issuingRequest(signer: signer, subject: RootCA.issuingSubject(bankName: bankName, generation: generation))
    }

    /// At the root ceremony: certifies the issuing-CA request with the root in `rootDirectory`.
    /// Returns the issuing CA's certificate (PEM) to carry back to the servers.
    public static func signIssuing(rootDirectory: URL, request: [UInt8], keyFile: KeyFile, keys: CAKeys, rootKeyLabel: String,
                                   now: Date) throws(BizDirectError) -> String {
        let root = try RootCA.open(rootDirectory, keyFile: keyFile, store: keys.store, label: rootKeyLabel)
        return try CAHierarchy.pem(root.certifyIssuingCA(request: request, now: now))
    }

    /// What installing an issuing-CA certificate did.
    public struct Installed: Sendable {
        /// The new issuing CA.
        public let certificate: Certificate
        /// True when the key changed (a rollover: certificates of the old key no longer verify).
        public let rollover: Bool
    }

    /// Installs a new issuing-CA certificate: it must be signed by the root in the CA folder and
    /// certify the waiting key (`requestIssuing`), the token's key, or the current key (a renewal).
    /// With no issuing CA yet (a production installation's first), it is simply installed.
    /// A new key replaces the old only with `allowRollover`. The certificate and key are written as
    /// one file; the OCSP responder, signed by the old certificate, is re-made at the next start.
    public static func installIssuing(caDirectory: URL, certificatePEM: String, keyFile: KeyFile, keys: CAKeys,
                                      allowRollover: Bool) throws(BizDirectError) -> Installed {
        guard let certificate = try? Certificate(pemEncoded: certificatePEM) else {
            throw .internal("ca.certificateInvalid", "The issuing-CA certificate is not a PEM certificate.")
        }
        let root = try CAHierarchy.readCertificate(caDirectory.appendingPathComponent("root-ca.cert.pem"))
        guard certificate.issuer == root.subject, root.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            throw .internal("ca.chainBroken", "The issuing-CA certificate was not signed by this installation's root (root-ca.cert.pem).")
        }
        // The first issuing CA of a production installation has nothing to replace.
        let existing = IdentityFile.exists(caDirectory, "issuing-ca") ? try IdentityFile.read(caDirectory, "issuing-ca", keyFile: keyFile) : nil
        let currentKey = existing?.1
        let pending = caDirectory.appendingPathComponent(pendingIssuingKey)
        var key: SoftwareSigner?
        if keys.store != nil {
            key = nil
            _ = try keys.signer(for: certificate, softwareKey: nil, label: keys.issuingLabel, file: "the new issuing-CA certificate")
        } else if let currentKey, currentKey.publicKey == certificate.publicKey {
            key = currentKey
        } else if FileManager.default.fileExists(atPath: pending.path),
                  let waiting = try? SoftwareSigner(pkcs8DER: keyFile.readKey(at: pending)), waiting.publicKey == certificate.publicKey {
            key = waiting
        } else {
            throw .internal("ca.keyMismatch", "The issuing-CA certificate certifies neither the current key nor the key waiting from `bizdirect ca request-issuing`.")
        }
        let rollover = existing.map { certificate.publicKey != $0.0.publicKey } ?? false
        guard !rollover || allowRollover else {
            throw .internal("ca.rolloverRefused", "This certificate is for a new issuing key: every certificate issued so far would stop verifying, and every customer would have to acquire again. Run again with --rollover when that is the plan (see docs/OPERATIONS.md, \"Compromise of the issuing key\").")
        }
        try IdentityFile.write(certificate, key: key, caDirectory, "issuing-ca", keyFile: keyFile)
        unlink(pending.path)
        return Installed(certificate: certificate, rollover: rollover)
    }

    /// Moves the root's files from `source` to `destination` (offline media): copied, synced,
    /// read back and checked, then removed from `source`.
    public static func moveRoot(from source: URL, to destination: URL, keyFile: KeyFile) throws(BizDirectError) {
        guard IdentityFile.exists(source, RootCA.name) else {
            throw .internal("ca.rootMissing", "\(source.path) holds no root CA to move.")
        }
        guard !IdentityFile.exists(destination, RootCA.name) else {
            throw .internal("ca.rootExists", "\(destination.path) already holds a root CA; it is never overwritten.")
        }
        do {
            try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .internal("ca.writeFailed", "\(destination.path) could not be made.")
        }
        for name in ["\(RootCA.name).pem", "\(RootCA.name).cert.pem"] {
            let from = source.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: from.path) else { continue }
            try KeyFile.writeAtomically(Array(data), to: destination.appendingPathComponent(name), mode: name.hasSuffix(".cert.pem") ? 0o644 : 0o600)
        }
        // Read back with the key before anything is removed.
        let moved = try RootCA.open(destination, keyFile: keyFile)
        let original = try RootCA.open(source, keyFile: keyFile)
        guard moved.certificate == original.certificate else {
            throw .internal("ca.moveFailed", "The copy in \(destination.path) does not match; nothing was removed.")
        }
        for name in ["\(RootCA.name).pem", "\(RootCA.name).cert.pem"] { unlink(source.appendingPathComponent(name).path) }
        rmdir(source.path)
    }

    /// Re-encrypts every key and secret file in `directories` under `new`. A file already under
    /// `new` is left as it is, so a run cut off half-way is completed by running it again.
    /// Returns the names of the files it rewrote.
    public static func rekey(directories: [URL], from old: KeyFile, to new: KeyFile) throws(BizDirectError) -> [String] {
        var rewritten: [String] = []
        for directory in directories {
            for name in ["issuing-ca", "ocsp-responder", TLSAuthority.name, "tls-server", RootCA.name] where IdentityFile.exists(directory, name) {
                let text = try KeyFile.readText(IdentityFile.url(directory, name))
                guard text.contains("PRIVATE KEY-----") else { continue }
                if new.passphrase != nil, KeyFile.isEncrypted(IdentityFile.url(directory, name)),
                   (try? IdentityFile.read(directory, name, keyFile: new)) != nil { continue }
                let (certificate, key) = try IdentityFile.read(directory, name, keyFile: old)
                try IdentityFile.write(certificate, key: key, directory, name, keyFile: new)
                rewritten.append("\(name).pem")
            }
            let pending = directory.appendingPathComponent(pendingIssuingKey)
            // "Already under the new passphrase" means it decrypts to a key (a wrong passphrase
            // passes CBC's padding check about once in 256 tries, and then yields no key).
            if FileManager.default.fileExists(atPath: pending.path),
               !(new.passphrase != nil && (try? SoftwareSigner(pkcs8DER: new.readKey(at: pending))) != nil) {
                try new.writeKey(try old.readKey(at: pending), to: pending)
                rewritten.append(pendingIssuingKey)
            }
            for name in ["pin-pepper.bin", "card-key.bin"] {
                let url = directory.appendingPathComponent(name)
                if new.passphrase != nil, KeyFile.isEncrypted(url), (try? new.readSecret(at: url))??.count == 32 { continue }
                guard let secret = try old.readSecret(at: url) else { continue }
                try new.writeSecret(secret, to: url)
                rewritten.append(name)
            }
        }
        return rewritten
    }
}
