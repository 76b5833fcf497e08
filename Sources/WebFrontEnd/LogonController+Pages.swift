import BizDirectCore
import Foundation
import Hummingbird
import RegistrationAuthority

extension LogonController {
    /// Whether a certificate of `role` is right for the logon entry `wanted`.
    static func matches(_ role: Role, _ wanted: String) -> Bool {
        switch wanted {
        case "administrator": role == .administrator
        case "user": role == .user
        case "staff": role.isStaff
        default: true
        }
    }

    /// The PIN form, labelled for the holder's role.
    func pinValues(_ holder: HolderSummary, csrf: String, language: Language) -> [String: Any] {
        ["csrf": csrf, "name": holder.name, "pinLabel": Strings.pinLabel(holder.role, language)]
    }

    func changeValues(_ holder: HolderSummary, csrf: String) -> [String: Any] {
        ["csrf": csrf, "name": holder.name, "administrator": holder.role == .administrator, "user": holder.role == .user, "staff": holder.role.isStaff]
    }

    func cardPage(_ holder: HolderSummary, cells: [String], csrf: String, language: Language, error: String?) async throws -> Response {
        let availability = try await ra.cards.availability(contractID: holder.scope)
        var values: [String: Any] = ["csrf": csrf]
        if let arrival = availability.expectedArrival {
            values["arrival"] = "\(PageRenderer.format(arrival.lowerBound, language: language)) – \(PageRenderer.format(arrival.upperBound, language: language))"
        }
        guard availability.usable else {
            return renderer.page("explain", language: language, status: .forbidden, values: [
                "problem": "noCard", "heading": PageRenderer.fill("card.none.title", language: language, date: nil),
                "body": PageRenderer.fill("card.none.body", language: language, date: nil),
                "next": PageRenderer.fill("card.none.next", language: language, date: nil),
            ])
        }
        values["cells"] = cells.map { ["cell": $0] }
        if let error { values["error"] = error }
        return renderer.page("card", language: language, status: error == nil ? .ok : .unauthorized, values: values)
    }

    /// Chose the wrong certificate for this entry: say which one and how to switch.
    func wrongCertificate(_ role: Role, wanted: String, language: Language) -> Response {
        let table = Strings.table(language)
        return renderer.page("explain", language: language, status: .forbidden, values: [
            "problem": "wrongCertificate",
            "heading": table["wrong.title"] ?? "",
            "body": (table["wrong.body"] ?? "").replacingOccurrences(of: "{{role}}", with: table["role.\(role.rawValue)"] ?? role.rawValue),
            "next": table["wrong.next.\(wanted)"] ?? table["wrong.next.user"] ?? "",
        ])
    }
}
