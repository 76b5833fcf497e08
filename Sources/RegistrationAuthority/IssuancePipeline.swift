import BizDirectCore
import CertificateAuthority
import Foundation
import Storage

/// Signs and stores certificates in batches: group commit.
///
/// Requests that arrive while a batch is being written wait and go into the next one, so a
/// busy server makes one transaction (holder lookup, key-reuse check, certificate rows, audit
/// events, one fsync) for many certificates. A lone request is a batch of one. Every
/// certificate and its audit event are stored in the same transaction; nothing is issued
/// unless it is stored.
actor IssuancePipeline {
    /// One certificate waiting to be issued.
    struct Job {
        let request: CheckedRequest
        let holderID: UUID
        let actor: String
        let clientAddress: String
        /// Acquisition: the holder's window is closed in the same transaction (one acquisition per window).
        let closesWindow: Bool
        /// A PIN the holder chose while acquiring (staff), stored in the same transaction.
        let pinHash: String?
        let continuation: CheckedContinuation<IssuedCertificate, any Error>
    }

    private let store: Store
    private let issuer: CertificateIssuer
    private let subjectName: @Sendable (HolderModel) throws -> SubjectName
    /// How long a holder's certificate lasts (staff have their own, shorter lifetime).
    private let lifetime: @Sendable (HolderModel) -> TimeInterval?
    private let clock: any WallClock
    private var queue: [Job] = []
    private var draining = false
    /// The largest batch written in one transaction.
    static let maximumBatch = 256

    init(store: Store, issuer: CertificateIssuer, clock: any WallClock, lifetime: @escaping @Sendable (HolderModel) -> TimeInterval?,
         subjectName: @escaping @Sendable (HolderModel) throws -> SubjectName) {
        self.store = store
        self.issuer = issuer
        self.clock = clock
        self.lifetime = lifetime
        self.subjectName = subjectName
    }

    /// Issues one certificate, batched with whatever else is waiting.
    func issue(_ request: CheckedRequest, holderID: UUID, actor: String, clientAddress: String, closesWindow: Bool = false,
               pinHash: String? = nil) async throws -> IssuedCertificate {
        try await withCheckedThrowingContinuation { continuation in
            queue.append(Job(request: request, holderID: holderID, actor: actor, clientAddress: clientAddress,
                             closesWindow: closesWindow, pinHash: pinHash, continuation: continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !queue.isEmpty {
            let batch = Array(queue.prefix(Self.maximumBatch))
            queue.removeFirst(batch.count)
            do {
                try await write(batch)
            } catch where batch.count > 1 {
                // Another process raced us (e.g. the same key on PostgreSQL): settle each alone.
                for job in batch {
                    do { try await write([job]) } catch { job.continuation.resume(throwing: error) }
                }
            } catch {
                batch.first?.continuation.resume(throwing: error)
            }
        }
        draining = false
    }

    /// Issues one certificate inside the caller's transaction, unbatched: the command line's
    /// bootstrap, where the staff member and their certificate commit together or not at all.
    func issue(_ request: CheckedRequest, holder: HolderModel, actor: String, in tx: Store) async throws -> IssuedCertificate {
        let now = clock.now()
        guard try await tx.certifiedKeys(spkiHashes: [Store.hex(request.spkiHash)]).isEmpty else {
            throw BizDirectError.conflict("csr.keyReused", "This key has been certified before. Make a new key and try again.")
        }
        let issued = try issuer.issue(request, subject: try subjectName(holder), now: now, lifetime: lifetime(holder))
        try await tx.insertCertificates([Self.record(issued, holderID: try holder.requireID())], at: now)
        try await tx.appendAudits([AuditEvent(actor: actor, action: "certificate.issue", target: issued.serialHex, outcome: .allowed)], at: now)
        return issued
    }

    static func record(_ issued: IssuedCertificate, holderID: UUID) -> CertificateRecord {
        CertificateRecord(serial: issued.serialHex, holderID: holderID, der: issued.der, notBefore: issued.notBefore,
                          notAfter: issued.notAfter, spkiHash: Store.hex(issued.spkiHash))
    }

    /// Looks up holders and key reuse for the batch, signs, then stores everything in one transaction.
    private func write(_ batch: [Job]) async throws {
        let now = clock.now()
        let holders = Dictionary(uniqueKeysWithValues: try await store.holders(ids: batch.map(\.holderID)).compactMap { h in h.id.map { ($0, h) } })
        var certified = try await store.certifiedKeys(spkiHashes: batch.map { Store.hex($0.request.spkiHash) })
        var signed: [(Job, IssuedCertificate)] = []
        var refused: [(Job, BizDirectError)] = []
        for job in batch {
            let spkiHash = Store.hex(job.request.spkiHash)
            guard let holder = holders[job.holderID] else {
                refused.append((job, .notFound("holder.unknown", "The certificate holder does not exist.")))
                continue
            }
            guard certified.insert(spkiHash).inserted else {
                refused.append((job, .conflict("csr.keyReused", "This key has been certified before. Make a new key and try again.")))
                continue
            }
            do {
                signed.append((job, try issuer.issue(job.request, subject: try subjectName(holder), now: now, lifetime: lifetime(holder))))
            } catch let error as BizDirectError {
                refused.append((job, error))
            }
        }
        let records = signed.map { job, issued in Self.record(issued, holderID: job.holderID) }
        let events = signed.map { job, issued in
            AuditEvent(actor: job.actor, action: "certificate.issue", target: issued.serialHex, outcome: .allowed, clientAddress: job.clientAddress)
        } + refused.map { job, error in
            AuditEvent(actor: job.actor, action: "certificate.issue", target: job.holderID.uuidString, outcome: .denied(error.reason),
                       clientAddress: job.clientAddress)
        }
        let windows = signed.filter { $0.0.closesWindow }.map { $0.0.holderID }
        let chosenPINs = signed.compactMap { job, _ in job.pinHash.map { (job.holderID, $0) } }
        try await store.transaction { tx in
            for holderID in windows where try await !tx.closeAcquisitionWindow(holderID: holderID) {
                throw BizDirectError.conflict("acquisition.used", "This acquisition window has already been used.")
            }
            for (holderID, pinHash) in chosenPINs { try await tx.setChosenPIN(holderID: holderID, pinHash: pinHash) }
            try await tx.insertCertificates(records, at: now)
            try await tx.appendAudits(events, at: now)
        }
        for (job, issued) in signed { job.continuation.resume(returning: issued) }
        for (job, error) in refused { job.continuation.resume(throwing: error) }
    }
}
