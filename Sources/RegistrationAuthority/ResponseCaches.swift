import BizDirectCore
import Foundation
import Synchronization

/// Runs at most one `work` at a time: callers that arrive while it runs wait for the same
/// result instead of starting their own. A burst of CRL downloads at a stale CRL publishes once.
final class SingleFlight<Value: Sendable>: Sendable {
    private let running = Mutex<Task<Value, any Error>?>(nil)

    func run(_ work: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let task = running.withLock { current in
            if let current { return current }
            let task = Task { try await work() }
            current = task
            return task
        }
        defer { running.withLock { if $0 == task { $0 = nil } } }
        return try await task.value
    }
}

/// Signed OCSP responses kept briefly, as large responders do, so that a flood of requests for
/// the same certificates costs one signature per `lifetime`, not one per request.
///
/// The key is the request's CertIDs; a nonce is not part of it. Requests with a nonce are
/// signed fresh (echoing it) while `freshPerSecond` allows; past that they get the cached
/// response without a nonce, which RFC 8954 §2.1 permits. Any revocation in this process
/// empties the cache. Every revocation also publishes a CRL with a new number, so the cache
/// compares the stored CRL number at most once per `epochCheckInterval` and empties itself when
/// it moved: another instance's revocation shows here within that second.
final class OCSPResponseCache: Sendable {
    struct Entry: Sendable {
        let response: [UInt8]
        let expires: Date
    }

    let lifetime: TimeInterval
    let capacity: Int
    let freshPerSecond: Int
    private let entries = Mutex<[[UInt8]: Entry]>([:])
    private let freshWindow = Mutex<(second: Int, count: Int)>((0, 0))
    /// How often the stored CRL number is compared (`epochCheckDue`).
    let epochCheckInterval: TimeInterval = 1
    private let epoch = Mutex<(checkedAt: Date, crlNumber: Int?)>((.distantPast, nil))

    init(lifetime: TimeInterval = 60, capacity: Int = 10_000, freshPerSecond: Int = 200) {
        self.lifetime = lifetime
        self.capacity = capacity
        self.freshPerSecond = freshPerSecond
    }

    func response(for key: [UInt8], now: Date) -> [UInt8]? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.expires > now else {
                entries[key] = nil
                return nil
            }
            return entry.response
        }
    }

    func store(_ response: [UInt8], for key: [UInt8], now: Date) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(response: response, expires: now.addingTimeInterval(lifetime))
        }
    }

    /// Whether one more nonce-bearing request may be signed fresh in this second.
    func admitFresh(now: Date) -> Bool {
        let second = Int(now.timeIntervalSince1970)
        return freshWindow.withLock { window in
            if window.second != second { window = (second, 0) }
            guard window.count < freshPerSecond else { return false }
            window.count += 1
            return true
        }
    }

    /// True for one caller per `epochCheckInterval`: that caller reads the stored CRL number and
    /// passes it to `observe(crlNumber:)`.
    func epochCheckDue(now: Date) -> Bool {
        epoch.withLock { state in
            guard now.timeIntervalSince(state.checkedAt) >= epochCheckInterval || now < state.checkedAt else { return false }
            state.checkedAt = now
            return true
        }
    }

    /// Empties the cache when the stored CRL number moved since the last look (a revocation or a
    /// refresh, in any instance).
    func observe(crlNumber: Int) {
        let moved = epoch.withLock { state in
            defer { state.crlNumber = crlNumber }
            return state.crlNumber != nil && state.crlNumber != crlNumber
        }
        if moved { removeAll() }
    }

    func removeAll() {
        entries.withLock { $0.removeAll() }
    }

    var count: Int { entries.withLock { $0.count } }
}
