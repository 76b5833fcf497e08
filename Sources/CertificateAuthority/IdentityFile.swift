import BizDirectCore
import Foundation
import X509

/// A certificate and its private key in one file, `NAME.pem`, so that the two are replaced
/// together by one rename or not at all (a crash can never leave a key beside another key's
/// certificate). With the key in a token, the file holds the certificate alone.
///
/// Beside it, `NAME.cert.pem` is a public copy of the certificate for operators' tools
/// (openssl, pkilint); nothing reads it back.
enum IdentityFile {
    /// The file holding `name`'s certificate (and key) in `directory`.
    static func url(_ directory: URL, _ name: String) -> URL { directory.appendingPathComponent("\(name).pem") }

    /// Whether `name` exists in `directory`.
    static func exists(_ directory: URL, _ name: String) -> Bool { FileManager.default.fileExists(atPath: url(directory, name).path) }

    /// Reads `name`: its certificate, and its software key when the file holds one (checked to match).
    static func read(_ directory: URL, _ name: String, keyFile: KeyFile) throws(BizDirectError) -> (Certificate, SoftwareSigner?) {
        let location = url(directory, name)
        let text = try KeyFile.readText(location)
        guard let certificateDER = PEMText.decode(text, label: "CERTIFICATE"), let certificate = try? Certificate(derEncoded: certificateDER) else {
            throw .internal("ca.certDamaged", "\(location.lastPathComponent) in \(directory.path) holds no readable certificate.")
        }
        guard text.contains("PRIVATE KEY-----") else { return (certificate, nil) }
        let pkcs8 = try keyFile.readKey(text: text, name: location.lastPathComponent)
        let signer: SoftwareSigner
        do {
            signer = try SoftwareSigner(pkcs8DER: pkcs8)
        } catch where text.contains("ENCRYPTED PRIVATE KEY") {
            // A wrong passphrase passes CBC's padding check about once in 256 tries; what comes
            // out is then no key.
            throw .internal("ca.keyUndecryptable", "The key file \(location.lastPathComponent) could not be decrypted: wrong passphrase or damaged file.")
        }
        guard signer.publicKey == certificate.publicKey else {
            throw .internal("ca.keyMismatch", "The key in \(location.lastPathComponent) does not match its certificate.")
        }
        return (certificate, signer)
    }

    /// Writes `certificate` and `key` (nil for a key kept in a token) as one file, atomically,
    /// owner-only; then the public copy.
    static func write(_ certificate: Certificate, key: SoftwareSigner?, _ directory: URL, _ name: String, keyFile: KeyFile) throws(BizDirectError) {
        let certificatePEM = try CAHierarchy.pem(certificate)
        let keyPEM = try key.map { key throws(BizDirectError) in try keyFile.keyPEM(key.pkcs8DER) } ?? ""
        try KeyFile.writeOwnerOnly(Array((certificatePEM + keyPEM).utf8), to: url(directory, name))
        try KeyFile.writeAtomically(Array(certificatePEM.utf8), to: directory.appendingPathComponent("\(name).cert.pem"), mode: 0o644)
    }
}
