import BizDirectCore
import FluentKit
import Foundation
import SQLKit

/// The facts about an issued certificate that the store records.
public struct CertificateRecord: Sendable {
    /// Lowercase hex serial.
    public let serial: String
    /// Whose it is.
    public let holderID: UUID
    /// DER encoding.
    public let der: [UInt8]
    /// Validity start.
    public let notBefore: Date
    /// Validity end.
    public let notAfter: Date
    /// Hex SHA-256 of the SubjectPublicKeyInfo.
    public let spkiHash: String

    /// Makes a record.
    public init(serial: String, holderID: UUID, der: [UInt8], notBefore: Date, notAfter: Date, spkiHash: String) {
        self.serial = serial
        self.holderID = holderID
        self.der = der
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.spkiHash = spkiHash
    }
}

extension Store {
    /// Stores issued certificates in one statement. Fails with `conflict` if a key was certified before.
    public func insertCertificates(_ records: [CertificateRecord], at time: Date) async throws {
        guard !records.isEmpty else { return }
        // SQLKit rather than Fluent models: one multi-row INSERT without per-model reflection,
        // which is what lets the issuance pipeline group-commit thousands of certificates a second.
        var insert = try sql.insert(into: CertificateModel.schema)
            .columns("id", "serial", "holder_id", "der", "not_before", "not_after", "spki_hash", "fingerprint", "status", "created_at")
        for record in records {
            insert = insert.values([
                SQLBind(UUID()), SQLBind(record.serial), SQLBind(record.holderID), SQLBind(Data(record.der)),
                SQLBind(record.notBefore), SQLBind(record.notAfter), SQLBind(record.spkiHash),
                SQLBind(Self.sha256Hex(record.der)), SQLBind("active"), SQLBind(time),
            ] as [any SQLExpression])
        }
        do {
            try await insert.run()
        } catch where Self.isUniqueViolation(error) {
            throw BizDirectError.conflict("csr.keyReused", "This key has been certified before. Make a new key and try again.")
        }
    }

    /// Stores one issued certificate.
    public func insertCertificate(_ record: CertificateRecord, at time: Date) async throws {
        try await insertCertificates([record], at: time)
    }

    /// Which of these key hashes were ever certified.
    public func certifiedKeys(spkiHashes: [String]) async throws -> Set<String> {
        Set(try await CertificateModel.query(on: database).filter(\.$spkiHash ~~ spkiHashes).all().map(\.spkiHash))
    }

    /// True when a certificate for this key (hex SHA-256 of its SPKI) was ever issued.
    public func isKeyCertified(spkiHash: String) async throws -> Bool {
        try await CertificateModel.query(on: database).filter(\.$spkiHash == spkiHash).count() > 0
    }

    /// The certificate with this serial.
    public func certificate(serial: String) async throws -> CertificateModel? {
        try await CertificateModel.query(on: database).filter(\.$serial == serial).first()
    }

    /// What a logon or a page view needs to judge a presented certificate, read in one query.
    public struct PresentedRecord: Sendable {
        /// The certificate's serial, validity and revocation time.
        public let serial: String, notBefore: Date, notAfter: Date, revokedAt: Date?
        /// Its holder's row id, role, scope, login ID and name as stored.
        public let holderID: UUID, role: String, scope: String, loginID: String, name: String
        /// The holder's own lock, and the lock of the contract named by the holder's scope (none for staff).
        public let holderLockedAt: Date?, contractLockedAt: Date?
    }

    /// The certificate with this fingerprint, its holder and the holder's contract lock, in one
    /// round trip (a page view used to make three Fluent queries for them, decoding each row by
    /// reflection). Nil when no stored certificate has this fingerprint.
    public func presentedRecord(fingerprint: String) async throws -> PresentedRecord? {
        let query = try sql.select()
            .column(SQLColumn("serial", table: "c")).column(SQLColumn("not_before", table: "c")).column(SQLColumn("not_after", table: "c"))
            .column(SQLColumn("revoked_at", table: "c")).column(SQLColumn("holder_id", table: "c"))
            .column(SQLColumn("role", table: "h")).column(SQLColumn("scope", table: "h")).column(SQLColumn("login_id", table: "h"))
            .column(SQLColumn("name", table: "h")).column(SQLAlias(SQLColumn("locked_at", table: "h"), as: SQLIdentifier("holder_locked_at")))
            .column(SQLAlias(SQLColumn("locked_at", table: "k"), as: SQLIdentifier("contract_locked_at")))
            .from(SQLAlias(SQLIdentifier(CertificateModel.schema), as: SQLIdentifier("c")))
            .join(SQLAlias(SQLIdentifier(HolderModel.schema), as: SQLIdentifier("h")), method: SQLJoinMethod.inner,
                  on: SQLColumn("id", table: "h"), .equal, SQLColumn("holder_id", table: "c"))
            .join(SQLAlias(SQLIdentifier(ContractModel.schema), as: SQLIdentifier("k")), method: SQLJoinMethod.left,
                  on: SQLColumn("contract_id", table: "k"), .equal, SQLColumn("scope", table: "h"))
            .where(SQLColumn("fingerprint", table: "c"), .equal, SQLBind(fingerprint))
            .limit(1)
        guard let row = try await query.first() else { return nil }
        return PresentedRecord(serial: try row.decode(column: "serial", as: String.self), notBefore: try row.decode(column: "not_before", as: Date.self),
                               notAfter: try row.decode(column: "not_after", as: Date.self), revokedAt: try row.decode(column: "revoked_at", as: Date?.self),
                               holderID: try row.decode(column: "holder_id", as: UUID.self), role: try row.decode(column: "role", as: String.self),
                               scope: try row.decode(column: "scope", as: String.self), loginID: try row.decode(column: "login_id", as: String.self),
                               name: try row.decode(column: "name", as: String.self),
                               holderLockedAt: try row.decode(column: "holder_locked_at", as: Date?.self),
                               contractLockedAt: try row.decode(column: "contract_locked_at", as: Date?.self))
    }

    /// The certificate with this DER SHA-256 fingerprint.
    public func certificate(fingerprint: String) async throws -> CertificateModel? {
        try await CertificateModel.query(on: database).filter(\.$fingerprint == fingerprint).first()
    }

    /// A holder's certificates, newest first.
    public func certificates(holderID: UUID) async throws -> [CertificateModel] {
        try await CertificateModel.query(on: database).filter(\.$holderID == holderID).sort(\.$createdAt, .descending).all()
    }

    /// Marks a certificate revoked. Returns false when it was already revoked (revocation is
    /// idempotent: the first time and reason stand).
    ///
    /// One conditional UPDATE, so of two concurrent revocations only one changes the row: the
    /// first time and reason stand. The sessions bound to the certificate end with it.
    public func revokeCertificate(serial: String, reason: Int, at time: Date) async throws -> Bool {
        struct Row: Decodable { let fingerprint: String }
        let rows = try await sql.update(CertificateModel.schema)
            .set(SQLIdentifier("status"), to: SQLBind("revoked"))
            .set(SQLIdentifier("revoked_at"), to: SQLBind(time))
            .set(SQLIdentifier("revocation_reason"), to: SQLBind(reason))
            .where(SQLIdentifier("serial"), .equal, SQLBind(serial))
            .where(SQLIdentifier("status"), .notEqual, SQLBind("revoked"))
            .returning(SQLIdentifier("fingerprint"))
            .all(decoding: Row.self)
        guard let revoked = rows.first else {
            guard try await certificate(serial: serial) != nil else {
                throw BizDirectError.notFound("certificate.unknown", "No certificate has this serial number.")
            }
            return false
        }
        try await endSessions(certificateFingerprint: revoked.fingerprint, reason: "session.revoked")
        return true
    }

    /// Revokes every active certificate of a holder (re-issue, deletion). Returns their serials.
    public func revokeActiveCertificates(holderID: UUID, reason: Int, at time: Date) async throws -> [String] {
        var serials: [String] = []
        for certificate in try await certificates(holderID: holderID) where certificate.status == "active" {
            // Only the revocations this call made: one made concurrently keeps its own time and reason.
            if try await revokeCertificate(serial: certificate.serial, reason: reason, at: time) { serials.append(certificate.serial) }
        }
        return serials
    }

    /// Certificates still marked active whose validity ended after `start` and by `end`.
    public func activeCertificates(expiredAfter start: Date, by end: Date) async throws -> [CertificateModel] {
        try await CertificateModel.query(on: database).filter(\.$status == "active").filter(\.$notAfter > start)
            .filter(\.$notAfter <= end).all()
    }

    /// Every revoked certificate that has not yet expired, for the CRL: serial, time and reason
    /// only, through the status index (whole rows with their DER made a CRL of 10^5 entries take
    /// 7 s at 10^6 certificates).
    public func revokedCertificates(notExpiredAt time: Date) async throws -> [RevocationState] {
        try await sql.select().column("serial").column("revoked_at").column("revocation_reason")
            .from(CertificateModel.schema)
            .where("status", .equal, SQLBind("revoked"))
            .where("not_after", .greaterThan, SQLBind(time))
            .orderBy("revoked_at", .ascending)
            .all()
            .map(RevocationState.init(row:))
    }

    /// What OCSP needs of a certificate: its serial and, when revoked, when and why.
    public struct RevocationState: Sendable, Equatable {
        /// Lower-case hex serial.
        public let serial: String
        /// When it was revoked; nil while it is good.
        public let revokedAt: Date?
        /// The CRL reason code, when revoked.
        public let reason: Int?

        init(row: any SQLRow) throws {
            serial = try row.decode(column: "serial", as: String.self)
            revokedAt = try row.decode(column: "revoked_at", as: Date?.self)
            reason = try row.decode(column: "revocation_reason", as: Int?.self)
        }
    }

    /// The revocation state of each known serial among `serials`, reading three columns through the
    /// serial index and nothing else (the OCSP hot path: decoding whole rows, DER included,
    /// through Fluent capped distinct-serial floods at ~2,300/s).
    public func revocationStates(serials: [String]) async throws -> [RevocationState] {
        guard !serials.isEmpty else { return [] }
        return try await sql.select().column("serial").column("revoked_at").column("revocation_reason")
            .from(CertificateModel.schema)
            .where("serial", .in, SQLBind.group(serials))
            .all()
            .map(RevocationState.init(row:))
    }

    /// The current CRL, if one was made.
    public func currentCRL() async throws -> CRLModel? {
        try await CRLModel.find(1, on: database)
    }

    /// Claims the next CRL number. The UPDATE holds the CRL row's lock until the transaction ends,
    /// so concurrent publishers (several revocations at once, several server processes) queue and
    /// the numbers rise strictly (RFC 5280 §5.2.3). Run it first in the publishing transaction.
    /// Returns the number and the previous CRL's thisUpdate (nil before the first CRL).
    public func claimNextCRLNumber() async throws -> (number: Int, previousThisUpdate: Date?) {
        try await ensureCRLState()
        struct Row: Decodable { let number: Int }
        let rows = try await sql.update(CRLModel.schema)
            .set(SQLIdentifier("number"), to: SQLRaw("number + 1"))
            .where(SQLIdentifier("id"), .equal, SQLBind(1))
            .returning(SQLIdentifier("number"))
            .all(decoding: Row.self)
        guard let number = rows.first?.number else {
            throw BizDirectError.internal("crl.number", "The CRL number could not be claimed.")
        }
        return (number, number > 1 ? try await currentCRL()?.thisUpdate : nil)
    }

    /// Saves a new CRL as the current one.
    /// The stored CRL's number (0 before the first), without reading the CRL itself.
    public func currentCRLNumber() async throws -> Int {
        struct Row: Decodable { let number: Int }
        return try await sql.select().column("number").from(CRLModel.schema).where("id", .equal, SQLBind(1))
            .first(decoding: Row.self)?.number ?? 0
    }

    /// When the stored CRL was made (nil before the first), without reading the CRL itself.
    public func currentCRLIssuedAt() async throws -> Date? {
        try await CRLModel.query(on: database).filter(\.$id == 1).filter(\.$number > 0).field(\.$thisUpdate).first()?.thisUpdate
    }

    /// Locks the CRL state row until the transaction ends, without claiming a number, and returns
    /// the current CRL (nil before the first): a refresher can then check whether another instance
    /// already refreshed it before making one (each stale CRL is replaced once, not once per instance).
    public func lockCurrentCRL() async throws -> CRLModel? {
        try await ensureCRLState()
        // A no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite.
        try await sql.update(CRLModel.schema).set(SQLIdentifier("number"), to: SQLRaw("number"))
            .where(SQLIdentifier("id"), .equal, SQLBind(1)).run()
        guard let crl = try await currentCRL(), crl.number > 0 else { return nil }
        return crl
    }

    private func ensureCRLState() async throws {
        try await sql.insert(into: CRLModel.schema).columns("id", "number", "der", "this_update")
            .values(SQLBind(1), SQLBind(0), SQLBind(Data()), SQLBind(Date(timeIntervalSince1970: 0)))
            .ignoringConflicts(with: "id").run()
    }

    public func saveCRL(number: Int, der: [UInt8], at time: Date) async throws {
        let row = try await currentCRL() ?? { let r = CRLModel(); r.id = 1; return r }()
        row.number = number
        row.der = Data(der)
        row.thisUpdate = time
        try await row.save(on: database)
    }
}
