import BizDirectCore
import CertificateAuthority
import Crypto
import CryptoExtras
import Foundation
import SwiftASN1
import Testing
import TestSupport
import X509

@Suite("CertificateIssuer")
struct CertificateIssuerTests {
    static func makeCA() throws -> (CAHierarchy, CertificateIssuer, TemporaryDirectory) {
        let directory = TemporaryDirectory()
        let ca = try CAHierarchy.open(directory: directory.url.appendingPathComponent("ca"), tls: .embedded(hostNames: ["localhost"]), bankName: "Test Shinkin Bank",
                                              keyFile: KeyFile(passphrase: nil), now: Date(), mayCreate: true)
        let profile = IssuanceProfile(publicationBaseURL: "http://localhost:8080", bankName: "Test Shinkin Bank")
        return (ca, try CertificateIssuer(issuerCertificate: ca.issuing, signer: ca.issuingSigner, profile: profile, random: SystemRandom()), directory)
    }

    @Test("an issued certificate follows the client profile and ignores the request's subject")
    func followsTheProfile() throws {
        let (_, issuer, directory) = try Self.makeCA(); defer { directory.remove() }
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let request = try CSRCheck.check(try CertificateFixtures.csr(key: CertificateFixtures.p256().1, subject: "CN=evil"))
        let issued = try issuer.issue(request, subject: SubjectName(commonName: "123456789011635", organizationalUnit: "Administrator"), now: now)
        let certificate = try Certificate(derEncoded: issued.der)
        #expect(certificate.subject.description.contains("CN=123456789011635"))
        #expect(certificate.subject.description.contains("O=Test Shinkin Bank"))
        #expect(!certificate.subject.description.contains("evil"))
        #expect(certificate.notValidBefore == now - 300)
        #expect(certificate.notValidAfter == now + 365 * 86_400)
        let serial = Array(certificate.serialNumber.bytes)
        #expect(serial.count == 16 && serial[0] & 0x80 == 0 && serial[0] != 0)
        let extensions = certificate.extensions
        #expect(try extensions.basicConstraints == .notCertificateAuthority)
        #expect(extensions[oid: .X509ExtensionID.basicConstraints]?.critical == true)
        #expect(try extensions.keyUsage == KeyUsage(digitalSignature: true))
        #expect(extensions[oid: .X509ExtensionID.keyUsage]?.critical == true)
        #expect(try extensions.extendedKeyUsage == ExtendedKeyUsage([.clientAuth]))
        #expect(try extensions.subjectKeyIdentifier != nil)
        #expect(try extensions.authorityKeyIdentifier != nil)
        #expect(extensions[oid: [2, 5, 29, 31]] != nil)
        let aia = try #require(try extensions.authorityInformationAccess)
        #expect(aia.count == 2)
    }

    @Test("1,000 random valid requests give 1,000 distinct serials that all verify")
    func thousandDistinctSerials() throws {
        let (ca, issuer, directory) = try Self.makeCA(); defer { directory.remove() }
        var serials = Set<String>()
        for index in 0..<1000 {
            let key: Certificate.PrivateKey = index % 2 == 0 ? .init(P256.Signing.PrivateKey()) : .init(P384.Signing.PrivateKey())
            let request = try CSRCheck.check(try CertificateFixtures.csr(key: key, subject: "CN=\(UUID())"))
            let issued = try issuer.issue(request, subject: SubjectName(commonName: "user \(index)"), now: Date())
            let certificate = try Certificate(derEncoded: issued.der)
            #expect(ca.issuing.publicKey.isValidSignature(certificate.signature, for: certificate))
            serials.insert(issued.serialHex)
        }
        #expect(serials.count == 1000)
    }
}

@Suite("CSRCheck")
struct CSRCheckTests {
    @Test("each kind of bad request gets its own reason")
    func badInputsHaveReasons() throws {
        for (label, bytes, reason) in try CertificateFixtures.badRequests() {
            #expect(throws: BizDirectError.malformed(reason, ""), "\(label)") { try CSRCheck.check(bytes) }
        }
    }

    @Test("ECDSA P-256, P-384 and RSA 2048 requests are accepted, in DER or PEM")
    func acceptsSupportedKeys() throws {
        let keys: [Certificate.PrivateKey] = [.init(P256.Signing.PrivateKey()), .init(P384.Signing.PrivateKey()),
                                              .init(try _RSA.Signing.PrivateKey(keySize: .bits2048))]
        for key in keys {
            let der = try CertificateFixtures.csr(key: key)
            _ = try CSRCheck.check(der)
            let pem = "-----BEGIN CERTIFICATE REQUEST-----\n\(Data(der).base64EncodedString())\n-----END CERTIFICATE REQUEST-----\n"
            _ = try CSRCheck.check(Array(pem.utf8))
        }
    }
}
