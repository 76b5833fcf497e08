import BizDirectCore
import CertificateAuthority
import Crypto
import Foundation
import Storage

/// Binds the database to the CA and the secrets it was first opened with.
///
/// On the first start the fingerprints of the issuing CA, the TLS CA, the PIN pepper and the card
/// key are recorded (`Store.bindKey`, a conditional insert, so two instances starting at once bind
/// one set); later starts and CLI commands compare and refuse on any difference, naming both
/// fingerprints. The OCSP responder and TLS server certificates are renewed while serving, so
/// theirs are recorded (for the operator and the audit) but not compared.
///
/// A secret's fingerprint is an HMAC-SHA256 of a fixed label under the secret: it identifies the
/// secret without revealing anything about it.
enum KeyBinding {
    /// The names under which the bindings are stored.
    enum Name: String, CaseIterable {
        case issuingCA = "issuing-ca", tlsCA = "tls-ca", pepper = "pin-pepper", cardKey = "card-key"
        case ocspResponder = "ocsp-responder", tlsServer = "tls-server"
    }

    /// Compares (or, on first start, records) every binding. Throws `ca.mismatch` naming the
    /// stored and the presented fingerprint.
    static func check(hierarchy: CAHierarchy, pepper: [UInt8], cardKey: [UInt8], store: Store, at now: Date) async throws {
        let bound: [(Name, String?)] = [
            (.issuingCA, hierarchy.issuingFingerprint), (.tlsCA, hierarchy.tlsCAFingerprint),
            (.pepper, secretFingerprint(pepper)), (.cardKey, secretFingerprint(cardKey)),
        ]
        for case let (name, presented?) in bound {
            let stored = try await store.bindKey(name.rawValue, fingerprint: presented, at: now)
            guard stored == presented else {
                throw BizDirectError.internal("ca.mismatch", "The \(name.rawValue) in \(hierarchy.directory.path) (SHA-256 \(presented)) is not the one this database was made with (SHA-256 \(stored)). Point this instance at the CA folder (or token) the other instances share, or restore it from backup; a database is never served with another CA or other secrets.")
            }
        }
        try await store.recordKey(Name.ocspResponder.rawValue, fingerprint: CertificateFingerprint.sha256(CAHierarchy.der(hierarchy.ocspResponder.certificate)), at: now)
        if let server = hierarchy.tlsServerFingerprint {
            try await store.recordKey(Name.tlsServer.rawValue, fingerprint: server, at: now)
        }
    }

    /// Identifies a secret without revealing it.
    static func secretFingerprint(_ secret: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("bizdirect key binding v1".utf8), using: SymmetricKey(data: secret))
        return CertificateFingerprint.sha256(Array(mac))
    }
}
