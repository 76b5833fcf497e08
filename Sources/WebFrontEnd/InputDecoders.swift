import Foundation

/// The web front end's decoders of outside bytes, as one public surface for the fuzz harnesses
/// (`Fuzz/BizDirectFuzz`), so they need no `@testable` access and build in every configuration.
/// Each is the same code the handlers run.
public enum InputDecoders {
    /// `Forms.parse`: an `application/x-www-form-urlencoded` body.
    public static func formFields(_ body: String) -> [String: String] { Forms.parse(body) }

    /// The DER request carried in an RFC 6960 GET path (`/ocsp/BASE64`), or empty.
    public static func ocspGETRequest(path: String) -> [UInt8] { PublicationController.ocspGETRequest(path: path) }

    /// The page language chosen from `?lang=`, the cookie and Accept-Language (its raw value).
    public static func language(query: String?, cookie: String?, acceptLanguage: String?) -> String {
        Language.choose(query: query, cookie: cookie, acceptLanguage: acceptLanguage).rawValue
    }

    /// The acquisition page's JSON body, decoded as `AcquisitionController` decodes it: the CSR
    /// (base-64) and the card answers, or nil when it does not decode.
    public static func acquisitionBody(_ data: Data) -> (csr: String, card: [String: String])? {
        guard let body = try? JSONDecoder().decode(AcquisitionController.IssueBody.self, from: data) else { return nil }
        return (body.csr, body.card ?? [:])
    }

    /// The renewal page's JSON body: whether it decodes.
    public static func renewalBodyDecodes(_ data: Data) -> Bool {
        (try? JSONDecoder().decode(AccountController.RenewBody.self, from: data)) != nil
    }
}
