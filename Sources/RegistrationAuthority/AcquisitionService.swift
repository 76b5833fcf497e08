import BizDirectCore
import CertificateAuthority
import Foundation
import Policy
import Storage

/// Acquire a certificate in the browser: the key is made there, only the PKCS#10 request comes here.
public struct AcquireCertificateRequest: Sendable {
    /// Who is acquiring, and the identifiers they typed.
    public enum Holder: Sendable {
        /// Contract ID, and the card answers for the pending challenge.
        case administrator(contractID: String, cardAnswers: [String: String])
        /// Contract ID and user ID.
        case user(contractID: String, userID: String)
        /// The one-time code from the branch.
        case staff(code: String)
    }
    /// Who.
    public let holder: Holder
    /// Contract PIN, user PIN or staff PIN.
    public let pin: PIN
    /// Contract or user confirmation PIN (not asked of staff).
    public let confirmationPIN: PIN?
    /// The PKCS#10 request made in the browser.
    public let csr: [UInt8]
    /// The client's address.
    public let clientAddress: String

    /// Makes a request.
    public init(holder: Holder, pin: PIN, confirmationPIN: PIN?, csr: [UInt8], clientAddress: String) {
        self.holder = holder
        self.pin = pin
        self.confirmationPIN = confirmationPIN
        self.csr = csr
        self.clientAddress = clientAddress
    }
}

/// What the browser needs to build the PKCS#12: the certificate and its chain.
public struct AcquiredCertificate: Sendable {
    /// The new certificate, DER.
    public let certificate: [UInt8]
    /// Issuing CA then root, DER.
    public let chain: [[UInt8]]
    /// Serial (hex).
    public let serial: String
    /// Expiry.
    public let notAfter: Date
    /// A name for the PKCS#12 entry.
    public let friendlyName: String
}

/// Checks everything in one step and issues: identifiers, PINs and card (each attempt counted),
/// an open acquisition window (one acquisition per window), then the certificate.
public struct AcquisitionService: Sendable {
    let store: Store
    let logon: LogonService
    let cards: CardService
    let certificates: CertificateService
    let hasher: PINHasher
    let chain: [[UInt8]]
    let clock: any WallClock

    /// Acquires a certificate for the holder the request names.
    public func acquire(_ request: AcquireCertificateRequest) async throws -> AcquiredCertificate {
        let checked = try CSRCheck.check(request.csr)
        let (holder, target) = try await find(request)
        guard let holder else {
            var hashes = 2
            if case .staff = request.holder { hashes = 1 }
            try await logon.unknownHolder(action: "acquisition", target: target, clientAddress: request.clientAddress, pin: request.pin, hashes: hashes)
        }
        try await logon.attempt(holder, action: "acquisition.secrets", clientAddress: request.clientAddress, certificateSerial: "-") {
            try await secretsMatch(holder, request)
        }
        guard let until = holder.acquisitionOpenUntil, until > clock.now() else {
            try await store.refuse("acquisition.closed", "No certificate can be acquired now: ask for a re-issue first.", actor: "anonymous",
                                   action: "acquisition", target: target, clientAddress: request.clientAddress, at: clock.now())
        }
        let issued = try await certificates.issueClosingWindow(checked, holderID: try holder.requireID(), actor: "acquisition:\(target)",
                                                               clientAddress: request.clientAddress)
        return AcquiredCertificate(certificate: issued.der, chain: chain, serial: issued.serialHex, notAfter: issued.notAfter,
                                   friendlyName: friendlyName(holder))
    }

    private func find(_ request: AcquireCertificateRequest) async throws -> (HolderModel?, String) {
        switch request.holder {
        case .administrator(let text, _):
            let contractID = try ContractID(parsing: text).digits
            return (try await store.holder(scope: contractID, loginID: "admin"), "admin:\(contractID)")
        case .user(let text, let userText):
            let contractID = try ContractID(parsing: text).digits
            let userID = try UserID(parsing: userText).value
            return (try await store.holder(scope: contractID, loginID: userID), "user:\(contractID)/\(userID)")
        case .staff(let code):
            return (try await store.holder(acquisitionCodeHash: hasher.keyedHash(code)), "staff")
        }
    }

    /// Every secret the holder's kind requires, all checked (no early exit that would time differently).
    private func secretsMatch(_ holder: HolderModel, _ request: AcquireCertificateRequest) async throws -> Bool {
        var ok = try await hasher.verify(request.pin, against: holder.pinHash, anonymous: true)
        if case .staff = request.holder { return ok }
        ok = try await hasher.verify(request.confirmationPIN ?? PIN(""), against: holder.confirmationPINHash, anonymous: true) && ok
        if case .administrator(let contractID, let answers) = request.holder {
            ok = try await cards.check(contractID: try ContractID(parsing: contractID).digits, answers: answers) && ok
        }
        return ok
    }

    private func friendlyName(_ holder: HolderModel) -> String {
        switch Role(rawValue: holder.role) {
        case .administrator: "BizDirect \(holder.scope) administrator"
        case .user: "BizDirect \(holder.scope) \(holder.loginID)"
        default: "BizDirect \(holder.loginID) \(holder.name)"
        }
    }
}
