import Foundation
import Storage

/// Coalesces the OCSP responder's status lookups: requests that arrive while a lookup is running
/// wait for the next one, which asks for all their serials in one query (as `IssuancePipeline`
/// batches issuance). One request alone is looked up at once; a flood of distinct serials costs
/// one database round trip per batch instead of one per request, which is what capped it.
actor RevocationLookup {
    private struct Waiter {
        let serials: [String]
        let continuation: CheckedContinuation<[Store.RevocationState], any Error>
    }

    /// Serials asked for in one query at most.
    static let maximumSerials = 512
    private let store: Store
    private var queue: [Waiter] = []
    private var draining = false

    init(store: Store) {
        self.store = store
    }

    /// The stored states of those of `serials` that the CA issued.
    func states(_ serials: [String]) async throws -> [Store.RevocationState] {
        try await withCheckedThrowingContinuation { continuation in
            queue.append(Waiter(serials: serials, continuation: continuation))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !queue.isEmpty {
            var count = 0, taken = 0
            while taken < queue.count, taken == 0 || count + queue[taken].serials.count <= Self.maximumSerials {
                count += queue[taken].serials.count
                taken += 1
            }
            let batch = Array(queue.prefix(taken))
            queue.removeFirst(taken)
            do {
                let rows = try await store.revocationStates(serials: Array(Set(batch.flatMap(\.serials))))
                let bySerial = Dictionary(rows.map { ($0.serial, $0) }, uniquingKeysWith: { first, _ in first })
                for waiter in batch { waiter.continuation.resume(returning: waiter.serials.compactMap { bySerial[$0] }) }
            } catch {
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
        draining = false
    }
}
