import BizDirectCore
import Foundation
import Policy
import Storage

/// What `addStaff` hands back: the new staff ID and the one-time acquisition code to give them.
public struct NewStaffMember: Sendable {
    /// The staff ID, such as S0001.
    public let staffID: String
    /// The holder id.
    public let holderID: UUID
    /// The one-time code for certificate acquisition (shown once, stored only as a hash).
    public let acquisitionCode: String
}

/// Bank staff records.
public struct StaffService: Sendable {
    let store: Store
    let hasher: PINHasher
    let clock: any WallClock
    let random: any RandomSource
    /// How long an acquisition code stays usable.

    /// A supervisor adds a staff member in the console.
    public func addStaff(name: String, role: Role, pin: PIN, by staff: StaffActor) async throws -> NewStaffMember {
        if case .deny(let reason) = BranchPolicy.mayAddStaff(role: staff.role) {
            try await store.refuse(reason, "Only a supervisor can add staff.", actor: staff.auditName, action: "staff.add", target: role.rawValue,
                                   clientAddress: staff.clientAddress, certificateSerial: staff.certificateSerial, at: clock.now())
        }
        return try await addStaff(name: name, role: role, pin: pin, actor: staff.auditName)
    }

    /// Adds a staff member with `role` and a staff PIN; returns their one-time acquisition code.
    /// Used directly only by the command line, to bootstrap the first supervisor.
    public func addStaff(name: String, role: Role, pin: PIN, actor: String) async throws -> NewStaffMember {
        guard role.isStaff else { throw BizDirectError.malformed("staff.role", "A staff role is clerk or supervisor.") }
        guard !TextNormaliser.normalise(name).isEmpty else { throw BizDirectError.malformed("staff.name", "Give the staff member's name.") }
        if case .deny(let reason) = PINPolicy.checkFormat(pin) {
            throw BizDirectError.malformed(reason, "A PIN has 6 to 12 letters and digits, with at least one of each.")
        }
        let now = clock.now()
        let code = Self.acquisitionCode(random.bytes(10))
        let pinHash = try await hasher.hash(pin)
        let codeHash = hasher.keyedHash(code)
        return try await store.transaction { tx in
            let staffID = String(format: "S%04d", try await tx.staffCount() + 1)
            let holder = try await tx.insertHolder(role: role, scope: "bank", loginID: staffID, name: TextNormaliser.normalise(name),
                                                   pinHash: pinHash, acquisitionCodeHash: codeHash,
                                                   acquisitionOpenUntil: now.addingTimeInterval(AcquisitionPolicy.window), at: now)
            try await tx.appendAudit(AuditEvent(actor: actor, action: "staff.add", target: "\(staffID) \(role.rawValue)", outcome: .allowed), at: now)
            return NewStaffMember(staffID: staffID, holderID: try holder.requireID(), acquisitionCode: code)
        }
    }

    /// A 16-character code from an alphabet without look-alike characters, in groups of four.
    static func acquisitionCode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var bits = 0, value = 0, characters: [Character] = []
        for byte in bytes {
            value = (value << 8) | Int(byte)
            bits += 8
            while bits >= 5, characters.count < 16 {
                bits -= 5
                characters.append(alphabet[(value >> bits) & 31])
            }
        }
        return stride(from: 0, to: 16, by: 4).map { String(characters[$0..<$0 + 4]) }.joined(separator: "-")
    }
}
