import BizDirectCore
import Foundation
import Storage

/// A request waiting for a supervisor, as the approval queue shows it.
public struct PendingRequest: Sendable {
    /// One field the approval changes.
    public struct Change: Sendable {
        /// Which field (localised by the web front end).
        public let field: String
        /// Its value now, empty when it is new.
        public let from: String
        /// Its value after the approval.
        public let to: String
        init(_ field: String, _ from: String, _ to: String) {
            self.field = field
            self.from = from
            self.to = to
        }
    }
    /// The request's fields: id, kind, contract or staff ID, who recorded it and when.
    public let values: [String: String]
    /// What approving it changes.
    public let changes: [Change]
}

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

    /// Requests waiting for a supervisor, each with who recorded it and what approving it will
    /// change: one line per field, before and after (codes such as roles and statuses are
    /// localised by the web front end).
    public func pendingRequests() async throws -> [PendingRequest] {
        var pending: [PendingRequest] = []
        for r in try await store.pendingBranchRequests() {
            let values = ["id": r.id?.uuidString ?? "", "kind": r.kind, "contractID": r.contractID, "subject": r.subject ?? r.contractID,
                          "recordedBy": r.recordedBy, "at": JapanTime.text(r.createdAt, .stamp), "lostCard": r.lostCard ? "lost" : ""]
            pending.append(PendingRequest(values: values, changes: try await changes(of: r)))
        }
        return pending
    }

    /// What approving `request` will change, as it stands now.
    func changes(of request: BranchRequestModel) async throws -> [PendingRequest.Change] {
        guard let kind = BranchRequestKind(rawValue: request.kind) else { return [] }
        let details = request.details.flatMap { try? JSONDecoder().decode(StaffRequestDetails.self, from: Data($0.utf8)) }
        if kind.isStaffRequest {
            var member: HolderModel?
            if let subject = request.subject { member = try await store.holder(scope: "bank", loginID: subject) }
            let serial = try await activeSerial(member)
            switch kind {
            case .staffAdd:
                return [.init("name", "", details?.name ?? ""), .init("role", "", details?.role ?? ""), .init("acquisition", "", "open")]
            case .staffRole: return [.init("role", member?.role ?? "", details?.role ?? "")]
            case .staffUnlock: return [.init("lock", member?.lockedAt == nil ? "unlocked" : "locked", "unlocked")]
            case .staffReissue: return [.init("certificate", serial ?? "", "revoked"), .init("acquisition", "", "open")]
            case .staffDeactivate:
                return [.init("status", "active", "deactivated"), .init("certificate", serial ?? "", "revoked"), .init("sessions", "", "ended")]
            default: return []
            }
        }
        let contract = try await store.contract(request.contractID)
        switch kind {
        case .onboarding:
            return [.init("status", contract?.status ?? "", "active"), .init("administrator", "", contract?.administratorName ?? ""),
                    .init("card", "", "new"), .init("acquisition", "", "open")]
        case .lockRelease: return [.init("lock", contract?.lockedAt == nil ? "unlocked" : "locked", "unlocked"), .init("failures", "", "0")]
        case .certificateReissue:
            let serial = try await activeSerial(try await store.holder(scope: request.contractID, loginID: "admin"))
            return [.init("certificate", serial ?? "", "revoked"), .init("acquisition", "", "open")]
        case .cardReissue:
            let current = try await store.cards(contractID: request.contractID).first { $0.status != "invalidated" }
            return [.init("card", current?.cardNumber ?? "", "new")]
        default: return []
        }
    }

    /// The serial of a holder's active certificate, if any.
    private func activeSerial(_ holder: HolderModel?) async throws -> String? {
        guard let holder else { return nil }
        return try await store.certificates(holderID: try holder.requireID()).first { $0.status == "active" }?.serial
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
