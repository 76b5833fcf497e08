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
        let continuation: CheckedContinuation<IssuedCertificate, any Error>
    }

    private let store: Store
    private let issuer: CertificateIssuer
    private let subjectName: @Sendable (HolderModel) throws -> SubjectName
    private let clock: any WallClock
    private var queue: [Job] = []
    private var draining = false
    /// The largest batch written in one transaction.
    static let maximumBatch = 256

    init(store: Store, issuer: CertificateIssuer, clock: any WallClock, subjectName: @escaping @Sendable (HolderModel) throws -> SubjectName) {
        self.store = store
        self.issuer = issuer
        self.clock = clock
        self.subjectName = subjectName
    }

    /// Issues one certificate, batched with whatever else is waiting.
    func issue(_ request: CheckedRequest, holderID: UUID, actor: String, clientAddress: String, closesWindow: Bool = false) async throws -> IssuedCertificate {
        try await withCheckedThrowingContinuation { continuation in
            queue.append(Job(request: request, holderID: holderID, actor: actor, clientAddress: clientAddress,
                             closesWindow: closesWindow, continuation: continuation))
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
                signed.append((job, try issuer.issue(job.request, subject: try subjectName(holder), now: now)))
            } catch let error as BizDirectError {
                refused.append((job, error))
            }
        }
        let records = signed.map { job, issued in
            CertificateRecord(serial: issued.serialHex, holderID: job.holderID, der: issued.der, notBefore: issued.notBefore,
                              notAfter: issued.notAfter, spkiHash: Store.hex(issued.spkiHash))
        }
        let events = signed.map { job, issued in
            AuditEvent(actor: job.actor, action: "certificate.issue", target: issued.serialHex, outcome: .allowed, clientAddress: job.clientAddress)
        } + refused.map { job, error in
            AuditEvent(actor: job.actor, action: "certificate.issue", target: job.holderID.uuidString, outcome: .denied(error.reason),
                       clientAddress: job.clientAddress)
        }
        let windows = signed.filter { $0.0.closesWindow }.map { $0.0.holderID }
        try await store.transaction { tx in
            for holderID in windows where try await !tx.closeAcquisitionWindow(holderID: holderID) {
                throw BizDirectError.conflict("acquisition.used", "This acquisition window has already been used.")
            }
            try await tx.insertCertificates(records, at: now)
            try await tx.appendAudits(events, at: now)
        }
        for (job, issued) in signed { job.continuation.resume(returning: issued) }
        for (job, error) in refused { job.continuation.resume(throwing: error) }
    }
}
