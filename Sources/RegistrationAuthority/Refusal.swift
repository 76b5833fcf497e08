import BizDirectCore
import Foundation
import Storage

extension Store {
    /// A refusal is never silent: appends it to the audit chain, then throws it as `forbidden`
    /// (the error names the caller's line, for the log).
    func refuse(_ reason: String, _ detail: String, actor: String, action: String, target: String, clientAddress: String,
                certificateSerial: String = "-", at now: Date, fileID: String = #fileID, line: Int = #line) async throws -> Never {
        try await appendAudit(AuditEvent(actor: actor, action: action, target: target, outcome: .denied(reason),
                                         clientAddress: clientAddress, certificateSerial: certificateSerial), at: now)
        throw BizDirectError(.forbidden, reason: reason, detail: detail, fileID: fileID, line: line)
    }
}
