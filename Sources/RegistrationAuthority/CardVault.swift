import BizDirectCore
import CertificateAuthority
import Crypto
import Foundation

/// The confirmation-password grid of a customer card: 5 rows (A–E) of 10 columns, two digits a cell.
public struct CardGrid: Sendable, Equatable {
    /// Row labels as printed.
    public static let rowLabels = ["A", "B", "C", "D", "E"]
    /// Number of columns.
    public static let columns = 10
    /// `cells[row][column]`, each two ASCII digits.
    public let cells: [[String]]

    /// A new random grid.
    static func random(_ random: any RandomSource) -> CardGrid {
        let bytes = random.bytes(rowLabels.count * columns * 2)
        var index = 0
        let cells = rowLabels.map { _ in
            (0..<columns).map { _ -> String in
                // Rejection-free: two bytes → 0..65535 → mod 100 has a bias below 0.1 %, acceptable for a printed grid.
                let value = (Int(bytes[index]) << 8 | Int(bytes[index + 1])) % 100
                index += 2
                return value < 10 ? "0\(value)" : "\(value)"
            }
        }
        return CardGrid(cells: cells)
    }

    var serialised: [UInt8] { Array(cells.flatMap { $0 }.joined().utf8) }

    init(cells: [[String]]) { self.cells = cells }

    init?(serialised bytes: [UInt8]) {
        let text = Array(String(decoding: bytes, as: UTF8.self))
        guard text.count == Self.rowLabels.count * Self.columns * 2 else { return nil }
        cells = (0..<Self.rowLabels.count).map { row in
            (0..<Self.columns).map { column in
                let start = (row * Self.columns + column) * 2
                return String(text[start..<start + 2])
            }
        }
    }
}

/// Encrypts card grids (AES-GCM, key kept beside the CA keys, bound to the card number).
public struct CardVault: Sendable {
    let key: SymmetricKey

    func seal(_ grid: CardGrid, cardNumber: String) throws -> [UInt8] {
        Array(try AES.GCM.seal(grid.serialised, using: key, authenticating: Array(cardNumber.utf8)).combined!) // safe: nil only for non-12-byte nonces; seal makes 12
    }

    func open(_ ciphertext: Data, cardNumber: String) throws -> CardGrid {
        let box = try AES.GCM.SealedBox(combined: ciphertext)
        guard let grid = CardGrid(serialised: Array(try AES.GCM.open(box, using: key, authenticating: Array(cardNumber.utf8)))) else {
            throw BizDirectError.internal("card.damaged", "A customer card record is damaged.")
        }
        return grid
    }
}
