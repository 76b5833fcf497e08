import BizDirectCore
import CertificateAuthority
import Foundation
import Policy
import Storage

/// A staff member's one-time acquisition code, in two halves that no one person sees both of.
///
/// The supervisor who records a staff add (or re-issue) is shown the first half once; the
/// supervisor who approves it is shown the second half once; the new member types both. Only a
/// keyed hash is stored: of the first half on the request, then, at approval, of the first
/// half's hash with the second half on the staff member. Each half is 8 characters from an
/// alphabet without look-alikes (40 bits), written `ABCD-EFGH`.
public enum AcquisitionCode {
    /// One half from 5 random bytes.
    static func half(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        let value = bytes.prefix(5).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let characters = (0..<8).map { alphabet[Int((value >> UInt64(35 - 5 * $0)) & 31)] }
        return String(characters[0..<4]) + "-" + String(characters[4..<8])
    }

    /// The two halves of a code as typed (any case, with or without hyphens and spaces), or nil.
    static func halves(of text: String) -> (String, String)? {
        let characters = Array(TextNormaliser.normalise(text).uppercased().filter { $0 != "-" && $0 != " " })
        guard characters.count == 16 else { return nil }
        func group(_ range: Range<Int>) -> String { String(characters[range.lowerBound..<range.lowerBound + 4]) + "-" + String(characters[range.lowerBound + 4..<range.upperBound]) }
        return (group(0..<8), group(8..<16))
    }

    /// The stored hash of a whole code, from the first half's keyed hash and the second half.
    static func hash(firstHalfHash: String, secondHalf: String, hasher: PINHasher) -> String {
        hasher.keyedHash(firstHalfHash + "|" + secondHalf)
    }

    /// The stored hash for a code as typed, or nil when it is not a code's shape.
    static func hash(typed text: String, hasher: PINHasher) -> String? {
        guard let (first, second) = halves(of: text) else { return nil }
        return hash(firstHalfHash: hasher.keyedHash(first), secondHalf: second, hasher: hasher)
    }
}

/// What the command line's bootstrap hands back.
public struct BootstrappedStaff: Sendable {
    /// The staff ID, such as S0001.
    public let staffID: String
    /// The holder id.
    public let holderID: UUID
    /// The whole one-time acquisition code, when no certificate was issued here.
    public let acquisitionCode: String?
    /// The certificate issued from the request given, if one was.
    public let certificate: IssuedCertificate?
}

/// Bank staff records. Adding staff and every change to a member is a branch request with a
/// second supervisor's approval (`BranchService`); only the bootstrap of the first two
/// supervisors and the break-glass unlock are done on the host, and both are audited.
public struct StaffService: Sendable {
    let store: Store
    let hasher: PINHasher
    let certificates: CertificateService
    let clock: any WallClock
    let random: any RandomSource

    /// Bootstraps a staff member from the command line, in one transaction: while fewer than two
    /// active supervisors exist (after that, staff come by request and approval).
    ///
    /// With a PKCS#10 request, the certificate is issued in the same transaction (a refused
    /// request leaves nothing behind) and no acquisition code exists; the PIN the operator set
    /// must be changed at the first logon. Without one, the member acquires in the browser with
    /// the printed code and chooses their own PIN there.
    public func bootstrap(name: String, role: Role, pin: PIN?, csr: [UInt8]?, actor: String) async throws -> BootstrappedStaff {
        guard role.isStaff else { throw BizDirectError.malformed("staff.role", "A staff role is clerk or supervisor.") }
        let name = TextNormaliser.normalise(name)
        guard !name.isEmpty, name.count <= 100 else { throw BizDirectError.malformed("staff.name", "Give the staff member's name.") }
        let now = clock.now()
        func refuse(_ error: BizDirectError) async throws -> Never {
            try await store.appendAudit(AuditEvent(actor: actor, action: "staff.add", target: role.rawValue, outcome: .denied(error.reason)), at: now)
            throw error
        }
        var checkedRequest: CheckedRequest?
        var operatorPINHash: String?
        if let csr {
            guard let pin else { throw BizDirectError.malformed("pin.format", "Give the staff PIN (BIZDIRECT_STAFF_PIN) with --csr.") }
            if case .deny(let reason) = PINPolicy.checkFormat(pin) {
                throw BizDirectError.malformed(reason, "A PIN has 6 to 12 letters and digits, with at least one of each.")
            }
            do { checkedRequest = try CSRCheck.check(csr) } catch { try await refuse(error) }
            operatorPINHash = try await hasher.hash(pin)
        }
        let (checked, pinHash) = (checkedRequest, operatorPINHash)
        let halves = (AcquisitionCode.half(random.bytes(5)), AcquisitionCode.half(random.bytes(5)))
        let codeHash = checked == nil ? AcquisitionCode.hash(firstHalfHash: hasher.keyedHash(halves.0), secondHalf: halves.1, hasher: hasher) : nil
        do {
            return try await store.transaction { [certificates] tx in
                if case .deny(let reason) = BranchPolicy.mayBootstrapStaff(activeSupervisors: try await tx.activeSupervisorCount()) {
                    throw BizDirectError.forbidden(reason, "Two supervisors exist: add staff in the branch console, by a request that another supervisor approves.")
                }
                let staffID = String(format: "S%04d", try await tx.nextCounter("staff"))
                let holder = try await tx.insertHolder(role: role, scope: "bank", loginID: staffID, name: name, pinHash: pinHash,
                                                       acquisitionCodeHash: codeHash,
                                                       acquisitionOpenUntil: codeHash == nil ? nil : now.addingTimeInterval(AcquisitionPolicy.window), at: now)
                // A PIN the operator typed is someone else's choice: changed at the first logon.
                if pinHash != nil {
                    holder.mustChangePIN = true
                    try await tx.update(holder)
                }
                try await tx.appendAudit(AuditEvent(actor: actor, action: "staff.add", target: "\(staffID) \(role.rawValue)", outcome: .allowed), at: now)
                var issued: IssuedCertificate?
                if let checked { issued = try await certificates.issue(checked, holder: holder, actor: actor, in: tx) }
                return BootstrappedStaff(staffID: staffID, holderID: try holder.requireID(),
                                         acquisitionCode: codeHash == nil ? nil : halves.0 + "-" + halves.1, certificate: issued)
            }
        } catch let error as BizDirectError where error.kind == .forbidden || error.kind == .conflict {
            try await refuse(error)
        }
    }
}
