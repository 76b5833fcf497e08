import BizDirectCore
import FluentKit
import Foundation
import SQLKit
import Storage
import Testing
import TestSupport

/// The storage contract: the same behaviour on SQLite and PostgreSQL.
@Suite("Store contract")
struct StoreContractTests {
    func withStore(_ engine: TestEngine, _ body: (Store) async throws -> Void) async throws {
        let directory = TemporaryDirectory("store"); defer { directory.remove() }
        let database = try await engine.open(in: directory)
        do { try await body(database.store) } catch { await database.shutdown(); throw error }
        await database.shutdown()
    }

    func holder(_ store: Store, _ login: String = "taro01", scope: String = "12345678903") async throws -> HolderModel {
        try await store.insertHolder(role: .user, scope: scope, loginID: login, name: "Taro", pinHash: "x", at: Date())
    }

    @Test("a login ID is unique within its scope only", arguments: TestEngine.available)
    func uniqueLoginID(engine: TestEngine) async throws {
        try await withStore(engine) { store in
            _ = try await holder(store)
            _ = try await holder(store, scope: "98765432109")
            await #expect(throws: BizDirectError.conflict("holder.duplicate", "")) { _ = try await holder(store) }
        }
    }

    @Test("a key can be certified once; revocation is idempotent", arguments: TestEngine.available)
    func certificates(engine: TestEngine) async throws {
        try await withStore(engine) { store in
            let owner = try await holder(store)
            let record = CertificateRecord(serial: "4a1b", holderID: try owner.requireID(), der: [1, 2, 3], notBefore: Date(),
                                           notAfter: Date() + 3600, spkiHash: "aa")
            try await store.insertCertificate(record, at: Date())
            #expect(try await store.isKeyCertified(spkiHash: "aa"))
            let again = CertificateRecord(serial: "4a1c", holderID: try owner.requireID(), der: [1, 2, 4], notBefore: Date(),
                                          notAfter: Date() + 3600, spkiHash: "aa")
            await #expect(throws: BizDirectError.conflict("csr.keyReused", "")) { try await store.insertCertificate(again, at: Date()) }
            #expect(try await store.revokeCertificate(serial: "4a1b", reason: 1, at: Date()))
            #expect(try await !store.revokeCertificate(serial: "4a1b", reason: 4, at: Date()))
            #expect(try await store.revokedCertificates(notExpiredAt: Date()).map(\.serial) == ["4a1b"])
        }
    }

    @Test("a failed transaction leaves nothing behind", arguments: TestEngine.available)
    func transactionsAreAtomic(engine: TestEngine) async throws {
        struct Abort: Error {}
        try await withStore(engine) { (store: Store) async throws -> Void in
            await #expect(throws: Abort.self) {
                try await store.transaction { tx in
                    _ = try await tx.insertHolder(role: .user, scope: "12345678903", loginID: "ghost1", name: "G", pinHash: nil, at: Date())
                    try await tx.appendAudit(AuditEvent(actor: "t", action: "a", target: "x", outcome: .allowed), at: Date())
                    throw Abort()
                }
            }
            #expect(try await store.holder(scope: "12345678903", loginID: "ghost1") == nil)
            #expect(try await store.verifyAuditChain().count == 0)
        }
    }

    @Test("50 parallel failures against a limit of 6 raise the counter exactly 6 times", arguments: TestEngine.available)
    func failureCounterIsAtomic(engine: TestEngine) async throws {
        try await withStore(engine) { store in
            let id = try await holder(store).requireID()
            let raised = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<50 { group.addTask { try await store.raiseFailureCount(holderID: id, limit: 6) } }
                return try await group.reduce(into: [Int]()) { if let value = $1 { $0.append(value) } }
            }
            #expect(raised.sorted() == [1, 2, 3, 4, 5, 6])
            #expect(try await store.holder(id: id)?.failureCount == 6)
        }
    }

    @Test("50 concurrent audit appends keep one unbroken chain", arguments: TestEngine.available)
    func concurrentAuditAppends(engine: TestEngine) async throws {
        try await withStore(engine) { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        try await store.appendAudit(AuditEvent(actor: "t", action: "concurrent", target: "\(index)", outcome: .allowed), at: Date())
                    }
                }
                try await group.waitForAll()
            }
            let result = try await store.verifyAuditChain()
            #expect(result.count == 50 && result.isIntact, "\(result.problems)")
        }
    }

    @Test("sessions are found by token hash and deleted on the server", arguments: TestEngine.available)
    func sessions(engine: TestEngine) async throws {
        try await withStore(engine) { store in
            _ = try await store.insertSession(tokenHash: "h1", holderID: nil, certificateFingerprint: "f", stage: "pin", csrfToken: "c",
                                              idleTimeout: 900, at: Date())
            #expect(try await store.session(tokenHash: "h1")?.csrfToken == "c")
            try await store.deleteSession(tokenHash: "h1")
            #expect(try await store.session(tokenHash: "h1") == nil)
        }
    }
}

/// The audit chain detects an edited, inserted or deleted event and names it.
@Suite("Audit chain")
struct AuditChainTests {
    func chain(_ engine: TestEngine, _ body: (Store, any SQLDatabase) async throws -> Void) async throws {
        let directory = TemporaryDirectory("audit"); defer { directory.remove() }
        let database = try await engine.open(in: directory)
        let store = database.store
        for index in 1...5 {
            try await store.appendAudit(AuditEvent(actor: "staff:S0001", action: "test.step", target: "t\(index)", outcome: .allowed), at: Date())
        }
        let intact = try await store.verifyAuditChain()
        #expect(intact.count == 5 && intact.isIntact)
        do { try await body(store, store.database as! any SQLDatabase) } catch { await database.shutdown(); throw error }
        await database.shutdown()
    }

    @Test("an edited event is named", arguments: TestEngine.available)
    func edited(engine: TestEngine) async throws {
        try await chain(engine) { store, sql in
            try await sql.raw("UPDATE audit_events SET outcome = 'denied:x' WHERE seq = 3").run()
            let result = try await store.verifyAuditChain()
            #expect(result.problems == ["event 3: contents do not match its hash (edited)"])
        }
    }

    @Test("a deleted event is named", arguments: TestEngine.available)
    func deleted(engine: TestEngine) async throws {
        try await chain(engine) { store, sql in
            try await sql.raw("DELETE FROM audit_events WHERE seq = 2").run()
            let result = try await store.verifyAuditChain()
            #expect(result.problems.first == "event 3: events 2…2 are missing (deleted)")
            #expect(!result.isIntact)
        }
    }

    @Test("an inserted event is named", arguments: TestEngine.available)
    func inserted(engine: TestEngine) async throws {
        try await chain(engine) { store, sql in
            // Shift events 4 and 5 up by one and slip a forged event 4 in, linked to event 3.
            try await sql.raw("UPDATE audit_events SET seq = seq + 10 WHERE seq >= 4").run()
            try await sql.raw("UPDATE audit_events SET seq = seq - 9 WHERE seq >= 14").run()
            try await sql.raw("""
                INSERT INTO audit_events (seq, at_ms, actor, action, target, outcome, client_address, certificate_serial, previous_hash, hash)
                SELECT 4, at_ms, 'staff:S0001', 'holder.unlock', 't9', 'allowed', '-', '-', hash, '\(unsafeRaw: String(repeating: "f", count: 64))'
                FROM audit_events WHERE seq = 3
                """).run()
            let result = try await store.verifyAuditChain()
            #expect(result.problems.contains("event 4: contents do not match its hash (edited)"), "\(result.problems)")
            #expect(result.problems.contains { $0.hasPrefix("event 5: previous-hash link broken") }, "\(result.problems)")
        }
    }

    @Test("a rewrite of the whole chain passes the chain check but not an anchor written down before", arguments: TestEngine.available)
    func rewrittenChain(engine: TestEngine) async throws {
        try await chain(engine) { store, sql in
            let anchor = try #require(try await store.auditHead())
            #expect(anchor.seq == 5 && AuditAnchor(anchor.description) == anchor)
            // Someone with write access edits event 2 and re-computes every hash after it.
            let rows = try await AuditEventModel.query(on: store.database).sort(\.$id, .ascending).all()
            var previous = Store.genesisHash
            for row in rows {
                if row.id == 2 { row.target = "forged" }
                row.previousHash = previous
                row.hash = Store.chainHash(row)
                previous = row.hash
                try await sql.update("audit_events").set("target", to: row.target).set("previous_hash", to: row.previousHash)
                    .set("hash", to: row.hash).where("seq", .equal, row.id!).run()
            }
            #expect(try await store.verifyAuditChain().isIntact, "the chain alone cannot see a full rewrite")
            let anchored = try await store.verifyAuditChain(anchors: [anchor])
            #expect(anchored.problems == ["event 5: does not match its anchor (the chain was rewritten up to here)"])
            let gone = try await store.verifyAuditChain(anchors: [AuditAnchor(seq: 9, hash: anchor.hash)])
            #expect(gone.problems == ["event 9: anchored, but no longer in the chain (deleted)"])
        }
    }
}
