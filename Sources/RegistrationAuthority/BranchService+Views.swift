import BizDirectCore
import Foundation
import Storage

/// A contract as the branch console shows it. No secret: no PIN, no grid.
public struct ContractView: Sendable {
    /// One line of a list.
    public struct Line: Sendable { public let values: [String: String] }
    /// The contract's own fields.
    public let contract: [String: String]
    /// Its administrator and users.
    public let holders: [Line]
    /// Certificates of its holders.
    public let certificates: [Line]
    /// Its customer cards (status, issue and sending dates, expected arrival).
    public let cards: [Line]
    /// Its requests, each with its history.
    public let requests: [RequestLine]
    /// Its recent audit events.
    public let audit: [Line]

    /// A request with its history.
    public struct RequestLine: Sendable {
        /// The request's fields.
        public let values: [String: String]
        /// Its history, oldest first.
        public let history: [Line]
    }
}

extension BranchService {
    /// Finds contracts by ID (check digit verified when the text is all digits) or company name.
    public func search(_ text: String) async throws -> [[String: String]] {
        let query = TextNormaliser.normalise(text)
        guard !query.isEmpty else { return [] }
        var key = query
        if query.filter({ $0 != "-" }).allSatisfy(\.isASCIIDigit) { key = try ContractID(parsing: query).digits }
        return try await store.searchContracts(key).map { c in
            ["contractID": c.contractID, "company": c.companyName, "branch": c.branch, "status": c.status,
             "locked": c.lockedAt == nil ? "" : "locked"]
        }
    }

    /// Requests waiting for a supervisor.
    public func pendingRequests() async throws -> [[String: String]] {
        try await store.pendingBranchRequests().map { r in
            ["id": r.id?.uuidString ?? "", "kind": r.kind, "contractID": r.contractID, "recordedBy": r.recordedBy,
             "at": JapanTime.text(r.createdAt, .stamp), "lostCard": r.lostCard ? "lost" : ""]
        }
    }

    /// Everything the console shows about one contract.
    public func view(contractID text: String) async throws -> ContractView {
        let contractID = try ContractID(parsing: text).digits
        guard let contract = try await store.contract(contractID) else {
            throw BizDirectError.notFound("contract.unknown", "No contract has this ID.")
        }
        let holders = try await store.holders(scope: contractID)
        var certificates: [ContractView.Line] = []
        for holder in holders {
            for c in try await store.certificates(holderID: try holder.requireID()) {
                certificates.append(.init(values: ["serial": c.serial, "holder": holder.loginID, "notBefore": JapanTime.text(c.notBefore, .stamp),
                                                   "notAfter": JapanTime.text(c.notAfter, .stamp), "status": c.status,
                                                   "revokedAt": c.revokedAt.map { JapanTime.text($0, .stamp) } ?? ""]))
            }
        }
        let requests = try await store.branchRequests(contractID: contractID)
        let history = try await store.requestEvents(requestIDs: requests.compactMap(\.id))
        return ContractView(
            contract: ["contractID": contractID, "company": contract.companyName, "branch": contract.branch,
                       "administrator": contract.administratorName, "status": contract.status,
                       "locked": contract.lockedAt.map { JapanTime.text($0, .stamp) } ?? "", "version": String(contract.version)],
            holders: holders.map { h in
                .init(values: ["loginID": h.loginID, "name": h.name, "role": h.role, "failures": String(h.failureCount),
                               "locked": h.lockedAt.map { JapanTime.text($0, .stamp) } ?? "", "acquisitionUntil": h.acquisitionOpenUntil.map { JapanTime.text($0, .stamp) } ?? ""])
            },
            certificates: certificates,
            cards: try await store.cards(contractID: contractID).map { card in
                var values = ["number": card.cardNumber, "status": card.status, "issuedAt": JapanTime.text(card.issuedAt, .stamp),
                              "sentAt": card.sentAt.map { JapanTime.text($0, .stamp) } ?? "", "invalidatedAt": card.invalidatedAt.map { JapanTime.text($0, .stamp) } ?? ""]
                if let arrival = Self.expectedArrival(card) { values["arrival"] = "\(JapanTime.text(arrival.lowerBound, .day)) – \(JapanTime.text(arrival.upperBound, .day))" }
                return .init(values: values)
            },
            requests: requests.map { r in
                .init(values: ["id": r.id?.uuidString ?? "", "kind": r.kind, "status": r.status, "recordedBy": r.recordedBy,
                               "decidedBy": r.decidedBy ?? "", "at": JapanTime.text(r.createdAt, .stamp), "lostCard": r.lostCard ? "lost" : "",
                               "open": r.status == "recorded" ? "open" : ""],
                      history: history.filter { $0.requestID == r.id }.map { e in
                          .init(values: ["at": JapanTime.text(e.at, .stamp), "staff": e.staffID, "action": e.action])
                      })
            },
            audit: try await store.recentAuditEvents(limit: 50, mentioning: contractID).map { e in
                .init(values: ["at": JapanTime.text(Date(timeIntervalSince1970: Double(e.atMilliseconds) / 1000), .stamp), "actor": e.actor,
                               "action": e.action, "target": e.target, "outcome": e.outcome])
            })
    }

    /// A sent card arrives 2–3 weeks after it was sent.
    public static func expectedArrival(_ card: CustomerCardModel) -> ClosedRange<Date>? {
        guard card.status == "sent", let sent = card.sentAt else { return nil }
        return sent.addingTimeInterval(14 * 86_400)...sent.addingTimeInterval(21 * 86_400)
    }
}
