import BizDirectCore
import Crypto
import Foundation
import Storage

/// The customer-card challenge: cells chosen at random (4 cells of 2 digits, over 26 bits),
/// kept until answered correctly so that reloading cannot shop for easier cells.
public struct CardService: Sendable {
    let store: Store
    let vault: CardVault
    let hasher: PINHasher
    let random: any RandomSource
    /// Cells asked for at once.
    static let cellCount = 4

    /// The pending challenge for a contract's administrator, made if none is pending. An unknown
    /// contract gets stable cells derived from its ID, so the answer reveals nothing.
    public func challenge(contractID: String) async throws -> [String] {
        guard let admin = try await store.holder(scope: contractID, loginID: "admin") else {
            return Self.cells(from: Array(HMAC<SHA256>.authenticationCode(for: Array(contractID.utf8), using: SymmetricKey(data: hasher.pepper))))
        }
        if let pending = admin.cardChallenge { return pending.split(separator: ",").map(String.init) }
        let cells = Self.cells(from: random.bytes(32))
        admin.cardChallenge = cells.joined(separator: ",")
        try await store.update(admin)
        return cells
    }

    /// Whether `answers` (cell → two digits) match the contract's current card for the pending
    /// challenge. Compared in constant time; with `consume`, a correct answer clears the challenge.
    func check(contractID: String, answers: [String: String], consume: Bool = true) async throws -> Bool {
        guard let admin = try await store.holder(scope: contractID, loginID: "admin"), let pending = admin.cardChallenge,
              let card = try await store.cards(contractID: contractID).first(where: { $0.status != "invalidated" }) else { return false }
        let grid = try vault.open(card.gridCiphertext, cardNumber: card.cardNumber)
        var expected: [UInt8] = [], given: [UInt8] = []
        for cell in pending.split(separator: ",").map(String.init) {
            guard let (row, column) = Self.position(cell) else { return false }
            expected += Array(grid.cells[row][column].utf8)
            given += Array(TextNormaliser.normalise(answers[cell] ?? "").utf8)
        }
        guard ConstantTime.equal(expected, given) else { return false }
        if consume {
            admin.cardChallenge = nil
            try await store.update(admin)
        }
        return true
    }

    /// Clears the pending challenge once the step it guarded has succeeded.
    func consumeChallenge(contractID: String) async throws {
        guard let admin = try await store.holder(scope: contractID, loginID: "admin") else { return }
        admin.cardChallenge = nil
        try await store.update(admin)
    }

    /// Distinct cells such as "C7" from random bytes.
    static func cells(from bytes: [UInt8]) -> [String] {
        var chosen: [String] = []
        for byte in bytes where chosen.count < cellCount {
            let index = Int(byte) % (CardGrid.rowLabels.count * CardGrid.columns)
            let cell = "\(CardGrid.rowLabels[index / CardGrid.columns])\(index % CardGrid.columns + 1)"
            if !chosen.contains(cell) { chosen.append(cell) }
        }
        return chosen
    }

    static func position(_ cell: String) -> (Int, Int)? {
        guard let row = CardGrid.rowLabels.firstIndex(of: String(cell.prefix(1))), let column = Int(cell.dropFirst()),
              (1...CardGrid.columns).contains(column) else { return nil }
        return (row, column - 1)
    }
}

extension CardService {
    /// What the card step can tell a customer: whether a card can be used, and when a new card
    /// that was sent is expected to arrive.
    public struct Availability: Sendable {
        /// A card that is not invalidated exists.
        public let usable: Bool
        /// For a card sent by post: when it is expected (2–3 weeks after sending).
        public let expectedArrival: ClosedRange<Date>?
    }

    /// The contract's card situation.
    public func availability(contractID: String) async throws -> Availability {
        let cards = try await store.cards(contractID: contractID)
        let current = cards.first { $0.status != "invalidated" }
        return Availability(usable: current != nil, expectedArrival: current.flatMap(BranchService.expectedArrival))
    }
}
