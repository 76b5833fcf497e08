import BizDirectCore
import FluentKit
import Foundation
import SQLKit

/// What `verifyAuditChain` found.
public struct AuditVerification: Sendable, Equatable {
    /// How many events were checked.
    public let count: Int
    /// Problems, each naming the event (sequence number) where the chain breaks.
    public let problems: [String]
    /// True when the chain is whole.
    public var isIntact: Bool { problems.isEmpty }
}

extension Store {
    /// The hash that starts the chain.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// Appends `event` to the hash chain. Call it inside the transaction that makes the change
    /// it records, so both are written or neither.
    public func appendAudit(_ event: AuditEvent, at time: Date) async throws {
        try await appendAudits([event], at: time)
    }

    /// Appends several events, in order, with one read of the chain head and one insert.
    public func appendAudits(_ events: [AuditEvent], at time: Date) async throws {
        guard !events.isEmpty else { return }
        // Reading the chain head and inserting must not interleave with another append: always
        // inside a transaction (serialised on SQLite's connection, advisory-locked on PostgreSQL).
        guard inTransaction else {
            return try await transaction { try await $0.appendAudits(events, at: time) }
        }
        if engine == .postgres {
            // Serialise appends so two transactions cannot fork the chain.
            try await sql.raw("SELECT pg_advisory_xact_lock(7301)").run()
        }
        let last = try await AuditEventModel.query(on: database).sort(\.$id, .descending).first()
        var previous = (seq: last?.id ?? 0, hash: last?.hash ?? Self.genesisHash)
        let rows = events.map { event in
            let row = AuditEventModel()
            let seq = previous.seq + 1
            row.id = seq
            row.atMilliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded())
            row.actor = event.actor
            row.action = event.action
            row.target = event.target
            row.outcome = event.outcome.text
            row.clientAddress = event.clientAddress
            row.certificateSerial = event.certificateSerial
            row.previousHash = previous.hash
            row.hash = Self.chainHash(row)
            previous = (seq, row.hash)
            return row
        }
        var insert = try sql.insert(into: AuditEventModel.schema)
            .columns("seq", "at_ms", "actor", "action", "target", "outcome", "client_address", "certificate_serial", "previous_hash", "hash")
        for row in rows {
            insert = insert.values([
                SQLBind(row.id ?? 0), SQLBind(row.atMilliseconds), SQLBind(row.actor), SQLBind(row.action), SQLBind(row.target),
                SQLBind(row.outcome), SQLBind(row.clientAddress), SQLBind(row.certificateSerial), SQLBind(row.previousHash), SQLBind(row.hash),
            ] as [any SQLExpression])
        }
        try await insert.run()
    }

    /// The newest event as an anchor, or nil while the chain is empty.
    public func auditHead() async throws -> AuditAnchor? {
        try await AuditEventModel.query(on: database).sort(\.$id, .descending).first().map { AuditAnchor(seq: $0.id ?? 0, hash: $0.hash) }
    }

    /// Re-computes the chain and reports every edited, inserted or deleted event, and every anchor
    /// (a head written down earlier) that the chain no longer holds.
    public func verifyAuditChain(anchors: [AuditAnchor] = []) async throws -> AuditVerification {
        let rows = try await AuditEventModel.query(on: database).sort(\.$id, .ascending).all()
        var problems: [String] = []
        var expectedPrevious = Self.genesisHash
        var expectedSeq = 1
        for row in rows {
            let seq = row.id ?? 0
            if seq != expectedSeq {
                problems.append("event \(seq): events \(expectedSeq)…\(seq - 1) are missing (deleted)")
            }
            if row.previousHash != expectedPrevious {
                problems.append("event \(seq): previous-hash link broken (an event before it was deleted, inserted or edited)")
            }
            if Self.chainHash(row) != row.hash {
                problems.append("event \(seq): contents do not match its hash (edited)")
            }
            expectedPrevious = row.hash
            expectedSeq = seq + 1
        }
        let hashes = Dictionary(rows.map { ($0.id ?? 0, $0.hash) }, uniquingKeysWith: { first, _ in first })
        for anchor in anchors where hashes[anchor.seq] != anchor.hash {
            problems.append(hashes[anchor.seq] == nil
                ? "event \(anchor.seq): anchored, but no longer in the chain (deleted)"
                : "event \(anchor.seq): does not match its anchor (the chain was rewritten up to here)")
        }
        return AuditVerification(count: rows.count, problems: problems)
    }

    /// The most recent audit events, newest first, optionally only those naming `needle`.
    public func recentAuditEvents(limit: Int, mentioning needle: String? = nil) async throws -> [AuditEventModel] {
        var query = AuditEventModel.query(on: database).sort(\.$id, .descending).limit(limit)
        if let needle {
            query = query.group(.or) { $0.filter(\.$target, .contains(inverse: false, .anywhere), needle)
                .filter(\.$actor, .contains(inverse: false, .anywhere), needle) }
        }
        return try await query.all()
    }

    /// SHA-256 over the previous hash and every field, separated so fields cannot run together.
    /// SHA-256 over the length-prefixed fields and the previous event's hash. Public so that an
    /// auditor's own tool can re-compute the chain from an export.
    public static func chainHash(_ row: AuditEventModel) -> String {
        let fields = [row.previousHash, String(row.id ?? 0), String(row.atMilliseconds), row.actor, row.action,
                      row.target, row.outcome, row.clientAddress, row.certificateSerial]
        return sha256Hex(Array(fields.map { "\($0.utf8.count):\($0)" }.joined(separator: "|").utf8))
    }
}
