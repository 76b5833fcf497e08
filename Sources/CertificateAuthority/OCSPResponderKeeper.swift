import BizDirectCore
import Foundation
import Synchronization
import X509

/// Holds the delegated OCSP responder and renews its certificate while the server runs.
///
/// The responder certificate carries id-pkix-ocsp-nocheck, so relying parties never check its
/// revocation: its only defence is a short life. It lasts `lifetime` (30 days by default) and
/// is renewed when a third of that is left, by `renewIfDue` (called by the server's refresher,
/// not only at start). A software key is replaced with each renewal; a token key is re-certified.
public final class OCSPResponderKeeper: Sendable {
    /// 30 days.
    public static let defaultLifetime: TimeInterval = 30 * 86_400
    /// How long each responder certificate lasts.
    public let lifetime: TimeInterval
    let directory: URL
    let issuer: Certificate
    let issuerSigner: any Signer
    let bankName: String
    let keyFile: KeyFile
    let tokenKey: (any Signer)?
    private let current: Mutex<Current>

    /// The certificate in use, its signer, and the responder made from them (built on first use
    /// and kept until the next renewal: it hashes the issuer's name and key once, not per response).
    private struct Current {
        var certificate: Certificate
        var signer: any Signer
        var responder: OCSPResponder?
    }

    /// Opens (or makes) the responder in `directory`.
    init(directory: URL, issuer: Certificate, issuerSigner: any Signer, bankName: String, keyFile: KeyFile, keys: CAKeys,
         lifetime: TimeInterval, now: Date) throws(BizDirectError) {
        self.directory = directory
        self.issuer = issuer
        self.issuerSigner = issuerSigner
        self.bankName = bankName
        self.keyFile = keyFile
        self.lifetime = lifetime
        tokenKey = try keys.store?.signer(label: keys.ocspLabel)
        let maker = LeafMaker(issuer: issuer, signer: issuerSigner, bankName: bankName, now: now)
        let made = try maker.ensure(directory, "ocsp-responder", keyFile: keyFile, hostNames: nil, lifetime: lifetime, tokenKey: tokenKey)
        current = Mutex(Current(certificate: made.0, signer: made.1, responder: nil))
    }

    /// The responder certificate in use.
    public var certificate: Certificate { current.withLock { $0.certificate } }

    /// A responder signing with the current certificate.
    public func responder(responseLifetime: TimeInterval) -> OCSPResponder {
        current.withLock { state in
            if let made = state.responder, made.lifetime == responseLifetime { return made }
            let made = OCSPResponder(issuer: issuer, responderCertificate: state.certificate, signer: state.signer, lifetime: responseLifetime)
            state.responder = made
            return made
        }
    }

    /// When the current certificate is due for renewal.
    public var renewalDue: Date { certificate.notValidAfter.addingTimeInterval(-LeafMaker.renewalMargin(lifetime)) }

    /// Renews the certificate when it is due at `now`: the new key and certificate are written in
    /// one file, then used. Returns the new certificate, or nil when nothing was due.
    @discardableResult
    public func renewIfDue(now: Date) throws(BizDirectError) -> Certificate? {
        guard now >= renewalDue else { return nil }
        let maker = LeafMaker(issuer: issuer, signer: issuerSigner, bankName: bankName, now: now)
        let (certificate, signer) = try maker.renew(directory, "ocsp-responder", keyFile: keyFile, hostNames: nil, lifetime: lifetime, tokenKey: tokenKey)
        current.withLock { $0 = Current(certificate: certificate, signer: signer, responder: nil) }
        return certificate
    }
}
