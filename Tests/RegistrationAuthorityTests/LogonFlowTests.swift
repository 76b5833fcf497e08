import BizDirectCore
import Foundation
import Policy
import Storage
@testable import RegistrationAuthority
import Testing
import TestSupport

/// The RA applies the state machine: an input at the wrong stage is refused, audited once, and
/// changes nothing (no counter moves, no stage moves).
@Suite("LogonFlow")
struct LogonFlowTests {
    @Test("card and PIN-change inputs at every other stage are refused with an audit event", arguments: [
        (LogonStage.changePINs, LogonInput.card), (.complete, .card), (.card, .changePINs), (.complete, .changePINs),
    ])
    func wrongStage(_ stage: LogonStage, _ input: LogonInput) async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let contract = try await server.ra.onboardContract()
        let credential = try await server.ra.acquireAdministrator(contract)
        let session = try await server.ra.sessions.start(holderID: credential.holderID, certificateFingerprint: Store.sha256Hex(credential.certificateDER),
                                                         stage: stage, idleTimeout: 900)
        do {
            switch input {
            case .card:
                _ = try await server.ra.logonFlow.submitCard(token: session.token, certificateDER: credential.certificateDER,
                                                             answers: [:], clientAddress: "127.0.0.1")
            case .changePINs:
                _ = try await server.ra.logonFlow.changePINs(token: session.token, certificateDER: credential.certificateDER,
                                                             pin: PIN("new1pin"), confirmation: PIN("conf2pin"), clientAddress: "127.0.0.1")
            case .pin: Issue.record("not a session input")
            }
            Issue.record("\(input) at \(stage) was accepted")
        } catch let error as BizDirectError {
            #expect(error.reason == "logon.stage.\(stage.rawValue)")
        }
        let event = try #require(try await server.ra.store.recentAuditEvents(limit: 1).first)
        #expect(event.action == "logon.\(input.rawValue)" && event.outcome == "denied:logon.stage.\(stage.rawValue)")
        let holder = try #require(try await server.ra.store.holder(id: credential.holderID))
        #expect(holder.failureCount == 0)
        let resumed = try await server.ra.sessions.resume(token: session.token, certificateDER: credential.certificateDER, clientAddress: "-")
        #expect(resumed.stage == stage, "the stage did not move")
    }

    @Test("a stored stage the code does not know ends the session; it is never taken for another stage")
    func unknownStoredStage() async throws {
        let server = try await LiveServer.start(); defer { Task { await server.stop() } }
        let credential = try await server.ra.enrolStaff()
        let session = try await server.ra.sessions.start(holderID: credential.holderID, certificateFingerprint: Store.sha256Hex(credential.certificateDER),
                                                         stage: .complete, idleTimeout: 900)
        let row = try #require(try await server.ra.store.session(tokenHash: Store.sha256Hex(Array(session.token.utf8))))
        row.stage = "certificate"   // a value from before the state machine
        try await server.ra.store.update(row)
        await #expect(throws: BizDirectError.internal("session.stageUnknown", "")) {
            _ = try await server.ra.sessions.resume(token: session.token, certificateDER: credential.certificateDER, clientAddress: "-")
        }
        #expect(try await server.ra.sessions.count() == 0)
    }
}
