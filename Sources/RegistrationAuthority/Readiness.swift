import BizDirectCore
import Foundation

/// Whether this instance should be sent traffic: what a load balancer's health check asks.
public struct Readiness: Sendable, Equatable {
    /// One thing readiness depends on.
    public enum Check: String, Sendable, CaseIterable {
        /// The database answers within `Readiness.databaseDeadline`.
        case database
        /// The issuing CA's certificate is valid now.
        case ca
        /// The stored CRL has not passed its nextUpdate.
        case crl
    }

    /// The checks that failed, each with a short reason (no secrets, no internals).
    public let failed: [Check: String]

    /// True when every check passed.
    public var isReady: Bool { failed.isEmpty }

    /// How long the database may take to answer before the instance counts as not ready.
    public static let databaseDeadline: Duration = .seconds(2)
}

extension RegistrationAuthority {
    /// Checks the database, the CA and the CRL. Decides nothing about anyone: not audited.
    public func readiness() async -> Readiness {
        var failed: [Readiness.Check: String] = [:]
        let now = clock.now()
        if now < logon.issuingCA.notValidBefore || now >= logon.issuingCA.notValidAfter { failed[.ca] = "issuing CA certificate not valid now" }
        let store = database.store
        let answered = await withTaskGroup(of: Result<Date?, any Error>?.self) { group -> Result<Date?, any Error>? in
            group.addTask {
                do { return .success(try await store.currentCRLIssuedAt()) } catch { return .failure(error) }
            }
            group.addTask { try? await Task.sleep(for: Readiness.databaseDeadline); return nil }
            let first: Result<Date?, any Error>? = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch answered {
        case nil: failed[.database] = "no answer within \(Readiness.databaseDeadline)"
        case .failure: failed[.database] = "unreachable"
        case .success(nil): failed[.crl] = "no CRL published yet"
        case .success(let thisUpdate?):
            if now.timeIntervalSince(thisUpdate) >= certificates.crlBuilder.lifetime { failed[.crl] = "stored CRL past its nextUpdate" }
        }
        return Readiness(failed: failed)
    }
}
