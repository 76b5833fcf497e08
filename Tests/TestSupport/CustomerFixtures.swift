import BizDirectCore
import Crypto
import Foundation
import RegistrationAuthority
import X509

/// A contract onboarded at the branch by two staff members, with its printed card.
public struct OnboardedContract: Sendable {
    /// The contract ID.
    public let contractID: String
    /// The printed card.
    public let card: PrintableCard
    /// The provisional contract PIN the customer wrote on the application.
    public var pin: String { OnboardedContract.provisionalPIN }
    /// The provisional contract confirmation PIN the customer wrote on the application.
    public var confirmationPIN: String { OnboardedContract.provisionalConfirmationPIN }
    /// What the test customer writes on the application.
    public static let provisionalPIN = "kari1pin", provisionalConfirmationPIN = "kari2pin"
    /// A clerk and a supervisor of the branch.
    public let clerk: StaffActor, supervisor: StaffActor

    /// Makes the record of an onboarded contract.
    public init(contractID: String, card: PrintableCard, clerk: StaffActor, supervisor: StaffActor) {
        self.contractID = contractID
        self.card = card
        self.clerk = clerk
        self.supervisor = supervisor
    }

    /// The digits printed in `cell` (e.g. "C7").
    public func answer(_ cell: String) -> String {
        let row = CardGrid.rowLabels.firstIndex(of: String(cell.prefix(1)))!
        return card.grid.cells[row][Int(cell.dropFirst())! - 1]
    }

    /// Answers for every cell asked.
    public func answers(_ cells: [String]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: cells.map { ($0, answer($0)) })
    }
}

extension RegistrationAuthority {
    /// Onboards a contract: a clerk records it, a supervisor approves it.
    public func onboardContract(company: String = "山田商事株式会社") async throws -> OnboardedContract {
        func actor(_ name: String, _ role: Role) async throws -> StaffActor {
            try await staffActor(try await staffID(of: try await enrolStaff(name: name, role: role, pin: "abc123")))
        }
        let clerk = try await actor("Clerk", .clerk), supervisor = try await actor("Boss", .supervisor)
        let made = try await branch.recordOnboarding(RecordOnboardingRequest(companyName: company, branch: "本店", administratorName: "山田太郎",
                                                                             contractPIN: PIN(OnboardedContract.provisionalPIN),
                                                                             confirmationPIN: PIN(OnboardedContract.provisionalConfirmationPIN)), by: clerk)
        guard case .card(let card) = try await branch.decide(DecideBranchRequest(requestID: made.requestID, approve: true, pin: PIN("abc123")), by: supervisor) else {
            throw BizDirectError.internal("test.noCard", "An onboarding approval printed no card.")
        }
        return OnboardedContract(contractID: made.contractID, card: card, clerk: clerk, supervisor: supervisor)
    }

    /// Acquires a certificate as the browser would (a new key, a PKCS#10 request).
    public func acquireCredential(_ holder: AcquireCertificateRequest.Holder, pin: String, confirmationPIN: String?) async throws -> Credential {
        let key = P256.Signing.PrivateKey()
        let acquired = try await acquisition.acquire(AcquireCertificateRequest(
            holder: holder, pin: PIN(pin), confirmationPIN: confirmationPIN.map(PIN.init),
            csr: try CertificateFixtures.csr(key: Certificate.PrivateKey(key)), clientAddress: "127.0.0.1"))
        let holderID = try await store.certificate(serial: acquired.serial)!.holderID
        return Credential(holderID: holderID, certificateDER: acquired.certificate, serial: acquired.serial, keyPEM: key.pemRepresentation)
    }

    /// The contract's administrator as an actor (for confirmed administrator operations).
    public func administrator(of contract: OnboardedContract) async throws -> AdministratorActor {
        let admin = try await store.holder(scope: contract.contractID, loginID: "admin")!
        return AdministratorActor(holderID: try admin.requireID(), contractID: contract.contractID, clientAddress: "127.0.0.1", certificateSerial: "-")
    }

    /// The administrator registers a user (confirmed with the initial contract confirmation PIN).
    public func registerUser(_ contract: OnboardedContract, userID: String, name: String = "Taro", pin: String = "user1pin",
                             confirmationPIN: String = "conf1pin") async throws {
        try await administrators.registerUser(
            RegisterUserRequest(contractID: contract.contractID, userID: userID, name: name, pin: PIN(pin), confirmationPIN: PIN(confirmationPIN)),
            by: try await administrator(of: contract), confirmationPIN: PIN(contract.confirmationPIN))
    }

    /// The administrator of an onboarded contract acquires their certificate with PINs and card.
    public func acquireAdministrator(_ contract: OnboardedContract) async throws -> Credential {
        let cells = try await cards.challenge(contractID: contract.contractID)
        return try await acquireCredential(.administrator(contractID: contract.contractID, cardAnswers: contract.answers(cells)),
                                           pin: contract.pin, confirmationPIN: contract.confirmationPIN)
    }
}
