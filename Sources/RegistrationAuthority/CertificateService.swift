import BizDirectCore
import CertificateAuthority
import Foundation
import Logging
import Storage
import X509

/// Ask the RA to issue a certificate to a holder from a PKCS#10 request.
public struct IssueCertificateRequest: Sendable {
    /// Whose certificate it is.
    public let holderID: UUID
    /// The PKCS#10 request (DER or PEM bytes).
    public let csr: [UInt8]
    /// Who asked, for the audit chain.
    public let actor: String
    /// The client's address.
    public let clientAddress: String

    /// Makes a request.
    public init(holderID: UUID, csr: [UInt8], actor: String, clientAddress: String = "-") {
        self.holderID = holderID
        self.csr = csr
        self.actor = actor
        self.clientAddress = clientAddress
    }
}

/// Issuance, revocation, CRL and OCSP: the RA side of the CA. Every decision is audited.
public struct CertificateService: Sendable {
    let store: Store
    let pipeline: IssuancePipeline
    let crlBuilder: CRLBuilder
    /// The delegated OCSP responder, renewed while serving (`renewOCSPResponderIfDue`).
    let responder: OCSPResponderKeeper
    let ocspResponseLifetime: TimeInterval
    let clock: any WallClock
    let logger: Logger
    /// One CRL publication at a time for stale-CRL downloads.
    let crlFlight = SingleFlight<[UInt8]>()
    /// Signed OCSP responses, briefly.
    let ocspCache = OCSPResponseCache()
    /// OCSP status lookups, coalesced into one query while one is running.
    let revocationLookup: RevocationLookup

    init(store: Store, issuer: CertificateIssuer, crlBuilder: CRLBuilder, responder: OCSPResponderKeeper, ocspResponseLifetime: TimeInterval,
         bankCode: String, staffCertificateLifetime: TimeInterval, clock: any WallClock, logger: Logger) {
        self.store = store
        revocationLookup = RevocationLookup(store: store)
        self.crlBuilder = crlBuilder
        self.responder = responder
        self.ocspResponseLifetime = ocspResponseLifetime
        self.clock = clock
        self.logger = logger
        pipeline = IssuancePipeline(store: store, issuer: issuer, clock: clock, lifetime: { holder in
            (Role(rawValue: holder.role)?.isStaff ?? false) ? staffCertificateLifetime : nil
        }) { holder in
            try CertificateService.subjectName(for: holder, bankCode: bankCode)
        }
    }

    /// Checks the request, then signs and stores the certificate with its audit event in one
    /// transaction (batched with concurrent issuances, see `IssuancePipeline`).
    public func issue(_ request: IssueCertificateRequest) async throws -> IssuedCertificate {
        let checked: CheckedRequest
        do {
            checked = try CSRCheck.check(request.csr)
        } catch {
            try await store.appendAudit(AuditEvent(actor: request.actor, action: "certificate.issue", target: request.holderID.uuidString,
                                                   outcome: .denied(error.reason), clientAddress: request.clientAddress), at: clock.now())
            throw error
        }
        defer { ocspCache.removeAll() }    // a serial cached as "unknown" is now good
        return try await pipeline.issue(checked, holderID: request.holderID, actor: request.actor, clientAddress: request.clientAddress)
    }

    /// Issues inside the caller's transaction `tx` (the command line's staff bootstrap).
    func issue(_ checked: CheckedRequest, holder: HolderModel, actor: String, in tx: Store) async throws -> IssuedCertificate {
        defer { ocspCache.removeAll() }
        return try await pipeline.issue(checked, holder: holder, actor: actor, in: tx)
    }

    /// Issues for an acquisition: the holder's window is closed in the issuing transaction.
    /// A PIN the holder chose while acquiring (`pinHash`, staff) is stored in the same transaction.
    func issueClosingWindow(_ checked: CheckedRequest, holderID: UUID, actor: String, clientAddress: String,
                            pinHash: String? = nil) async throws -> IssuedCertificate {
        defer { ocspCache.removeAll() }
        return try await pipeline.issue(checked, holderID: holderID, actor: actor, clientAddress: clientAddress, closesWindow: true,
                                        pinHash: pinHash)
    }

    /// The subject the RA decides for a holder (the request's own subject is ignored).
    static func subjectName(for holder: HolderModel, bankCode: String) throws -> SubjectName {
        switch Role(rawValue: holder.role) {
        case .administrator: SubjectName(commonName: holder.scope + bankCode, organizationalUnit: "Administrator")
        case .user: SubjectName(commonName: "\(holder.scope) \(holder.loginID)", organizationalUnit: "User")
        case .clerk, .supervisor: SubjectName(commonName: "\(holder.loginID) \(holder.name)", organizationalUnit: "Branch Staff")
        case nil: throw BizDirectError.internal("holder.role", "The holder's role is not known.")
        }
    }

    /// Revokes a certificate (idempotent) and publishes the new CRL in the same transaction.
    /// Returns false when it was already revoked.
    @discardableResult
    public func revoke(serial: String, reason: RevocationReason, actor: String, clientAddress: String = "-") async throws -> Bool {
        let now = clock.now()
        let changed = try await store.transaction { [self] tx in
            let changed = try await tx.revokeCertificate(serial: serial, reason: reason.rawValue, at: now)
            try await tx.appendAudit(AuditEvent(actor: actor, action: "certificate.revoke", target: serial,
                                                outcome: changed ? .allowed : .denied("alreadyRevoked"), clientAddress: clientAddress), at: now)
            if changed { try await publishCRL(in: tx) }
            return changed
        }
        if changed { revocationsCommitted() }
        return changed
    }

    /// Revokes for an operator (`bizdirect certificate revoke`), the reason given by its RFC 5280
    /// name (keyCompromise, cessationOfOperation, …). Each serial is its own transaction, with
    /// the CRL that lists it. Returns false when it was revoked already.
    public func revoke(serial: String, reasonName: String, actor: String) async throws -> Bool {
        guard let reason = RevocationReason.allCases.first(where: { "\($0)".caseInsensitiveCompare(reasonName) == .orderedSame }),
              reason != .removeFromCRL, reason != .certificateHold else {
            throw BizDirectError.malformed("certificate.reasonUnknown", "The revocation reason \(reasonName) is not one of: \(Self.reasonNames.joined(separator: ", ")).")
        }
        guard try await store.certificate(serial: serial.lowercased()) != nil else {
            throw BizDirectError.notFound("certificate.unknown", "No certificate has the serial \(serial).")
        }
        return try await revoke(serial: serial.lowercased(), reason: reason, actor: actor)
    }

    /// The reasons an operator may give.
    public static var reasonNames: [String] {
        RevocationReason.allCases.filter { $0 != .removeFromCRL && $0 != .certificateHold }.map { "\($0)" }
    }

    /// How long a revoked certificate stays on the CRL after its expiry.
    static let crlRetentionAfterExpiry: TimeInterval = 90 * 86_400

    /// Makes and stores a new CRL with the next number, in its own transaction. Renewed
    /// certificates whose successor was never used to log on are revoked (superseded) at their
    /// own expiry first, in the same transaction. Cached OCSP responses of this process go.
    public func publishCRL() async throws -> [UInt8] {
        defer { ocspCache.removeAll() }
        return try await publishCRL(in: store)
    }

    /// Makes and stores the next CRL in the caller's transaction `tx`: a revocation and the CRL
    /// that lists it commit together, so a crash can never leave a revoked certificate off the
    /// published CRL. The caller calls `revocationsCommitted()` after its commit.
    @discardableResult
    func publishCRL(in tx: Store) async throws -> [UInt8] {
        try await tx.transaction { [crlBuilder, clock] tx in
            let (number, previousThisUpdate) = try await tx.claimNextCRLNumber()
            // Read once the number is claimed: publishers queue on that row, so thisUpdate rises with the number.
            let now = clock.now()
            try await Self.supersedeRenewedAtExpiry(tx, expiredAfter: previousThisUpdate ?? .distantPast, by: now)
            // Revoked certificates stay listed for a while after they expire (RFC 5280 allows
            // dropping them at expiry), so a relying party can still see that an old one was revoked.
            let entries = try await tx.revokedCertificates(notExpiredAt: now.addingTimeInterval(-Self.crlRetentionAfterExpiry)).map {
                RevokedEntry(serialHex: $0.serial, revokedAt: $0.revokedAt ?? now,
                             reason: RevocationReason(rawValue: $0.reason ?? 0) ?? .unspecified)
            }
            let der = try crlBuilder.make(number: number, entries: entries, now: now)
            try await tx.saveCRL(number: number, der: der, at: now)
            return der
        }
    }

    /// Renews the OCSP responder certificate when a third of its life is left (called by the
    /// server's refresher, so that a long-running server never answers with an expired responder).
    /// The renewal is audited and its fingerprint recorded; returns the new certificate, or nil.
    @discardableResult
    public func renewOCSPResponderIfDue() async throws -> Certificate? {
        let now = clock.now()
        guard let renewed = try responder.renewIfDue(now: now) else { return nil }
        let fingerprint = CertificateFingerprint.sha256(CAHierarchy.der(renewed))
        try await store.transaction { tx in
            try await tx.recordKey(KeyBinding.Name.ocspResponder.rawValue, fingerprint: fingerprint, at: now)
            try await tx.appendAudit(AuditEvent(actor: "system:ca", action: "ca.ocspResponderRenew", target: renewed.serialNumber.description,
                                                outcome: .allowed), at: now)
        }
        ocspCache.removeAll()
        logger.info("OCSP responder certificate renewed", metadata: ["notAfter": "\(renewed.notValidAfter)"])
        return renewed
    }

    /// When the OCSP responder certificate is next due for renewal.
    public var ocspResponderRenewalDue: Date { responder.renewalDue }

    /// After a transaction that revoked and published: answers cached before it are dropped.
    func revocationsCommitted() {
        ocspCache.removeAll()
    }

    /// A renewed certificate is superseded when its successor is first used to log on, or else at its
    /// own expiry: this revokes, as of their expiry, the certificates that ran out since the last CRL
    /// while their holder already had a newer one. Each CRL covers the time since the one before.
    static func supersedeRenewedAtExpiry(_ tx: Store, expiredAfter start: Date, by now: Date) async throws {
        for expired in try await tx.activeCertificates(expiredAfter: start.addingTimeInterval(-60), by: now) {
            let holderCertificates = try await tx.certificates(holderID: expired.holderID)
            guard holderCertificates.contains(where: { $0.notBefore > expired.notBefore }) else { continue }
            guard try await tx.revokeCertificate(serial: expired.serial, reason: RevocationReason.superseded.rawValue, at: expired.notAfter) else { continue }
            try await tx.appendAudit(AuditEvent(actor: "system:renewal", action: "certificate.revoke", target: expired.serial,
                                                outcome: .allowed), at: now)
        }
    }

    /// The current CRL; a new one is made when none exists or the current one is past half its
    /// life. Concurrent callers at a stale CRL share one publication.
    /// Every instance on the database serves the stored CRL; a stale one is replaced once across
    /// instances: the replacing transaction locks the CRL row and looks again, so an instance
    /// that waited behind another's publication serves that one instead of publishing its own.
    public func currentCRL() async throws -> [UInt8] {
        if let crl = try await store.currentCRL(), isFresh(crl.thisUpdate) { return Array(crl.der) }
        return try await crlFlight.run { [self] in
            let (der, published) = try await store.transaction { [self] tx -> ([UInt8], Int?) in
                if let crl = try await tx.lockCurrentCRL(), isFresh(crl.thisUpdate) { return (Array(crl.der), nil) }
                let der = try await publishCRL(in: tx)
                return (der, try await tx.currentCRLNumber())
            }
            if let published {
                revocationsCommitted()
                // After the commit: the operator (and the multi-instance test) sees each refresh once, from the instance that made it.
                logger.info("CRL published", metadata: ["number": "\(published)"])
            }
            return der
        }
    }

    private func isFresh(_ thisUpdate: Date) -> Bool {
        clock.now().timeIntervalSince(thisUpdate) < crlBuilder.lifetime / 2
    }

    /// Answers a DER OCSP request; a malformed one gets `malformedRequest`, never an error.
    public func respondOCSP(_ der: [UInt8]) async -> [UInt8] {
        let query: OCSPResponder.Query
        do throws(BizDirectError) {
            query = try OCSPResponder.parse(der)
        } catch {
            logger.debug("OCSP request refused", metadata: ["reason": "\(error.reason)"])
            return OCSPResponder.malformedResponse
        }
        let now = clock.now()
        if ocspCache.epochCheckDue(now: now), let number = try? await store.currentCRLNumber() { ocspCache.observe(crlNumber: number) }
        let key = query.cacheKey
        // With a nonce, sign fresh while the budget lasts; otherwise answer from (or into) the cache.
        let fresh = query.hasNonce && ocspCache.admitFresh(now: now)
        if !fresh, let cached = ocspCache.response(for: key, now: now) { return cached }
        let answered = fresh ? query : query.withoutNonce
        do {
            let rows = try await revocationLookup.states(query.certIDs.map(\.serialHex))
            var statuses: [String: CertificateStatus.State] = [:]
            for row in rows {
                statuses[row.serial] = row.revokedAt.map {
                    .revoked(at: $0, reason: RevocationReason(rawValue: row.reason ?? 0) ?? .unspecified)
                } ?? .good
            }
            let response = responder.responder(responseLifetime: ocspResponseLifetime).respond(to: answered, statuses: statuses, now: now)
            if !fresh { ocspCache.store(response, for: key, now: now) }
            return response
        } catch {
            logger.error("OCSP lookup failed", metadata: ["error": "\(error)"])
            return [0x30, 0x03, 0x0a, 0x01, 0x03] // tryLater
        }
    }
}
