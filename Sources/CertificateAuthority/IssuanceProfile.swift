import BizDirectCore
import Foundation

/// What the CA puts into the certificates, CRLs and OCSP responses it makes.
public struct IssuanceProfile: Sendable {
    /// How long things last.
    public struct Validity: Sendable {
        /// Lifetime of a client certificate: one year by default; tests may use seconds.
        public var clientCertificate: TimeInterval
        /// How far notBefore is set back, to tolerate clocks that run slow.
        public var backdate: TimeInterval
        /// How long a CRL is valid (nextUpdate − thisUpdate); at most 24 hours.
        public var crl: TimeInterval
        /// How long an OCSP response is valid.
        public var ocspResponse: TimeInterval

        /// The defaults: one year, 5 minutes, 24 hours, 1 hour.
        public init(clientCertificate: TimeInterval = 365 * 86_400, backdate: TimeInterval = 300,
                    crl: TimeInterval = 86_400, ocspResponse: TimeInterval = 3_600) {
            self.clientCertificate = clientCertificate
            self.backdate = backdate
            self.crl = crl
            self.ocspResponse = ocspResponse
        }
    }

    /// Lifetimes.
    public var validity: Validity
    /// The plain-HTTP base URL of the CRL, OCSP and CA-certificate listener, e.g. `http://localhost:8080`.
    public var publicationBaseURL: String
    /// The bank's name, put in O= of every subject.
    public var bankName: String

    /// Makes a profile.
    public init(validity: Validity = .init(), publicationBaseURL: String, bankName: String) {
        self.validity = validity
        self.publicationBaseURL = publicationBaseURL
        self.bankName = bankName
    }

    /// Where the issuing CA's CRL is published.
    public var crlURL: String { "\(publicationBaseURL)/crl/issuing-ca.crl" }
    /// Where the OCSP responder answers.
    public var ocspURL: String { "\(publicationBaseURL)/ocsp" }
    /// Where the issuing CA certificate can be fetched (DER).
    public var caIssuersURL: String { "\(publicationBaseURL)/ca/issuing-ca.der" }
}

/// The subject a certificate is issued to, decided by the registration authority from the
/// holder's record. The CA copies it; it never reads the request's subject.
public struct SubjectName: Sendable, Equatable {
    /// CN: for an administrator, contract ID followed by the bank code.
    public var commonName: String
    /// OU: the holder's role, so the browser's picker tells certificates apart.
    public var organizationalUnit: String?

    /// Makes a subject name.
    public init(commonName: String, organizationalUnit: String? = nil) {
        self.commonName = commonName
        self.organizationalUnit = organizationalUnit
    }
}
