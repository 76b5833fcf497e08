import BizDirectCore
import CPKCS11
import Crypto
import Foundation
import Synchronization
import X509

/// A PKCS#11 token (an HSM, or SoftHSM in the tests) holding CA keys that never leave it.
///
/// The module is loaded at run time with `dlopen` (`bd_pkcs11_load`), so that the build needs no
/// vendor library. One logged-in session per token object; PKCS#11 sessions are not safe for
/// concurrent operations, so every call on it holds `session`'s lock. Keys are made in the token
/// with its own tools (`pkcs11-tool --keypairgen --key-type EC:prime256v1 --label …`) and found
/// by label.
public final class PKCS11Token: SigningKeyStore {
    public let name: String
    private let session: Mutex<Session>

    private struct Session {
        let functions: UnsafeMutablePointer<BD_CK_FUNCTION_LIST>
        let handle: BD_CK_SESSION_HANDLE
    }

    /// Loads `modulePath`, finds the token labelled `tokenLabel` and logs in with `pin`.
    /// A module that does not load, a missing token or a wrong PIN throws a message that says
    /// which, and never contains the PIN.
    public init(modulePath: String, tokenLabel: String, pin: String) throws(BizDirectError) {
        name = "PKCS#11 token \"\(tokenLabel)\""
        var message = [CChar](repeating: 0, count: 512)
        guard let functions = bd_pkcs11_load(modulePath, &message, message.count) else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw .internal("pkcs11.module", "The PKCS#11 module \(modulePath) could not be loaded: \(reason).")
        }
        let list = functions.pointee
        var arguments = BD_CK_C_INITIALIZE_ARGS(CreateMutex: nil, DestroyMutex: nil, LockMutex: nil, UnlockMutex: nil,
                                                flags: BD_CK_FLAGS(BD_CKF_OS_LOCKING_OK), pReserved: nil)
        let initialised = list.C_Initialize(&arguments)
        guard initialised == BD_CK_RV(BD_CKR_OK) || initialised == BD_CK_RV(BD_CKR_CRYPTOKI_ALREADY_INITIALIZED) else {
            throw Self.failure("C_Initialize", initialised, modulePath)
        }
        let slot = try Self.slot(labelled: tokenLabel, list, module: modulePath)
        var handle: BD_CK_SESSION_HANDLE = 0
        let opened = list.C_OpenSession(slot, BD_CK_FLAGS(BD_CKF_SERIAL_SESSION), nil, nil, &handle)
        guard opened == BD_CK_RV(BD_CKR_OK) else { throw Self.failure("C_OpenSession", opened, modulePath) }
        var pinBytes = Array(pin.utf8)
        let loggedIn = list.C_Login(handle, BD_CK_USER_TYPE(BD_CKU_USER), &pinBytes, BD_CK_ULONG(pinBytes.count))
        for index in pinBytes.indices { pinBytes[index] = 0 }
        switch loggedIn {
        case BD_CK_RV(BD_CKR_OK), BD_CK_RV(BD_CKR_USER_ALREADY_LOGGED_IN):
            break
        case BD_CK_RV(BD_CKR_PIN_INCORRECT):
            _ = list.C_CloseSession(handle)
            throw .internal("pkcs11.pinIncorrect", "The PIN for the PKCS#11 token \"\(tokenLabel)\" is wrong (check BIZDIRECT_PKCS11_PIN or --pkcs11-pin-file; the token locks after repeated wrong PINs).")
        case BD_CK_RV(BD_CKR_PIN_LOCKED):
            _ = list.C_CloseSession(handle)
            throw .internal("pkcs11.pinLocked", "The PKCS#11 token \"\(tokenLabel)\" has locked its user PIN; its security officer must unlock it.")
        default:
            _ = list.C_CloseSession(handle)
            throw Self.failure("C_Login", loggedIn, modulePath)
        }
        session = Mutex(Session(functions: functions, handle: handle))
    }

    deinit {
        session.withLock { _ = $0.functions.pointee.C_CloseSession($0.handle) }
    }

    /// The signer for the EC key pair labelled `label`: its private key signs in the token, its
    /// public key is read from the token's public-key object.
    public func signer(label: String) throws(BizDirectError) -> any Signer {
        let (privateHandle, point) = try session.withLock { session throws(BizDirectError) in
            guard let privateHandle = try Self.find(label: label, objectClass: BD_CKO_PRIVATE_KEY, session) else {
                throw .internal("pkcs11.keyMissing", "\(name) holds no private key labelled \"\(label)\". Make it in the token (e.g. pkcs11-tool --keypairgen --key-type EC:prime256v1 --label \(label)) or correct the key label.")
            }
            guard let publicHandle = try Self.find(label: label, objectClass: BD_CKO_PUBLIC_KEY, session) else {
                throw .internal("pkcs11.keyMissing", "\(name) holds no public key labelled \"\(label)\" beside its private key.")
            }
            return (privateHandle, try Self.attribute(BD_CKA_EC_POINT, of: publicHandle, session))
        }
        guard let publicKey = Self.publicKey(ecPoint: point) else {
            throw .internal("pkcs11.keyType", "The key \"\(label)\" in \(name) is not an EC P-256 or P-384 key.")
        }
        return PKCS11Signer(token: self, key: privateHandle, publicKey: publicKey.key, curve: publicKey.curve)
    }

    /// Signs `digest` with the key `key` (CKM_ECDSA), returning the raw r‖s the token produces.
    fileprivate func signDigest(_ digest: [UInt8], key: BD_CK_OBJECT_HANDLE, signatureLength: Int) throws(BizDirectError) -> [UInt8] {
        try session.withLock { session throws(BizDirectError) in
            let list = session.functions.pointee
            var mechanism = BD_CK_MECHANISM(mechanism: BD_CK_MECHANISM_TYPE(BD_CKM_ECDSA), pParameter: nil, ulParameterLen: 0)
            let started = list.C_SignInit(session.handle, &mechanism, key)
            guard started == BD_CK_RV(BD_CKR_OK) else { throw Self.failure("C_SignInit", started, name) }
            var data = digest
            var signature = [UInt8](repeating: 0, count: signatureLength)
            var length = BD_CK_ULONG(signatureLength)
            let signed = list.C_Sign(session.handle, &data, BD_CK_ULONG(data.count), &signature, &length)
            guard signed == BD_CK_RV(BD_CKR_OK), Int(length) == signatureLength else { throw Self.failure("C_Sign", signed, name) }
            return signature
        }
    }

    private static func slot(labelled label: String, _ list: BD_CK_FUNCTION_LIST, module: String) throws(BizDirectError) -> BD_CK_SLOT_ID {
        var count: BD_CK_ULONG = 0
        let counted = list.C_GetSlotList(1, nil, &count)
        guard counted == BD_CK_RV(BD_CKR_OK) else { throw failure("C_GetSlotList", counted, module) }
        var slots = [BD_CK_SLOT_ID](repeating: 0, count: Int(count))
        let listed = list.C_GetSlotList(1, &slots, &count)
        guard listed == BD_CK_RV(BD_CKR_OK) else { throw failure("C_GetSlotList", listed, module) }
        var seen: [String] = []
        for slot in slots.prefix(Int(count)) {
            var info = BD_CK_TOKEN_INFO()
            guard list.C_GetTokenInfo(slot, &info) == BD_CK_RV(BD_CKR_OK) else { continue }
            let tokenLabel = withUnsafeBytes(of: info.label) { String(decoding: $0, as: UTF8.self) }
                .trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
            if tokenLabel == label { return slot }
            seen.append("\"\(tokenLabel)\"")
        }
        throw .internal("pkcs11.tokenMissing", "The PKCS#11 module \(module) has no token labelled \"\(label)\" (tokens present: \(seen.isEmpty ? "none" : seen.joined(separator: ", "))).")
    }

    private static func find(label: String, objectClass: Int, _ session: Session) throws(BizDirectError) -> BD_CK_OBJECT_HANDLE? {
        let list = session.functions.pointee
        var classValue = BD_CK_ULONG(objectClass)
        var labelBytes = Array(label.utf8)
        let found: BD_CK_RV
        var handles = [BD_CK_OBJECT_HANDLE](repeating: 0, count: 2)
        var count: BD_CK_ULONG = 0
        let started = withUnsafeMutableBytes(of: &classValue) { classPointer in
            labelBytes.withUnsafeMutableBytes { labelPointer in
                var template = [
                    BD_CK_ATTRIBUTE(type: BD_CK_ATTRIBUTE_TYPE(BD_CKA_CLASS), pValue: classPointer.baseAddress, ulValueLen: BD_CK_ULONG(classPointer.count)),
                    BD_CK_ATTRIBUTE(type: BD_CK_ATTRIBUTE_TYPE(BD_CKA_LABEL), pValue: labelPointer.baseAddress, ulValueLen: BD_CK_ULONG(labelPointer.count)),
                ]
                return list.C_FindObjectsInit(session.handle, &template, BD_CK_ULONG(template.count))
            }
        }
        guard started == BD_CK_RV(BD_CKR_OK) else { throw failure("C_FindObjectsInit", started, "the token") }
        found = list.C_FindObjects(session.handle, &handles, BD_CK_ULONG(handles.count), &count)
        _ = list.C_FindObjectsFinal(session.handle)
        guard found == BD_CK_RV(BD_CKR_OK) else { throw failure("C_FindObjects", found, "the token") }
        guard count <= 1 else {
            throw .internal("pkcs11.keyAmbiguous", "The token holds more than one key labelled \"\(label)\"; each CA key needs its own label.")
        }
        return count == 1 ? handles[0] : nil
    }

    private static func attribute(_ type: Int, of object: BD_CK_OBJECT_HANDLE, _ session: Session) throws(BizDirectError) -> [UInt8] {
        let list = session.functions.pointee
        var template = [BD_CK_ATTRIBUTE(type: BD_CK_ATTRIBUTE_TYPE(type), pValue: nil, ulValueLen: 0)]
        let sized = list.C_GetAttributeValue(session.handle, object, &template, 1)
        guard sized == BD_CK_RV(BD_CKR_OK), template[0].ulValueLen > 0, template[0].ulValueLen < 4096 else {
            throw failure("C_GetAttributeValue", sized, "the token")
        }
        var value = [UInt8](repeating: 0, count: Int(template[0].ulValueLen))
        let read = value.withUnsafeMutableBytes { pointer in
            template[0].pValue = pointer.baseAddress
            return list.C_GetAttributeValue(session.handle, object, &template, 1)
        }
        guard read == BD_CK_RV(BD_CKR_OK) else { throw failure("C_GetAttributeValue", read, "the token") }
        return Array(value.prefix(Int(template[0].ulValueLen)))
    }

    /// The public key in a CKA_EC_POINT value: a DER OCTET STRING around the uncompressed point
    /// (the standard's form), or the bare point (some older modules).
    public static func publicKey(ecPoint value: [UInt8]) -> (key: Certificate.PublicKey, curve: SoftwareSigner.Curve)? {
        var point = value[...]
        if point.count >= 2, point.first == 0x04, point.count != 65, point.count != 97 {
            // OCTET STRING, short or one-byte long form.
            let header = point[point.startIndex + 1] == 0x81 ? 3 : 2
            guard point.count > header else { return nil }
            point = point.dropFirst(header)
        }
        if point.count == 65, let key = try? P256.Signing.PublicKey(x963Representation: point) {
            return (Certificate.PublicKey(key), .p256)
        }
        if point.count == 97, let key = try? P384.Signing.PublicKey(x963Representation: point) {
            return (Certificate.PublicKey(key), .p384)
        }
        return nil
    }

    private static func failure(_ function: String, _ value: BD_CK_RV, _ place: String) -> BizDirectError {
        .internal("pkcs11.failed", "\(function) failed in \(place) (CKR 0x\(String(value, radix: 16))).")
    }
}

/// A `Signer` whose key is in a PKCS#11 token: the message is hashed here (SHA-256 for P-256,
/// SHA-384 for P-384), the token signs the digest with CKM_ECDSA, and the raw r‖s becomes the
/// DER ECDSA-Sig-Value the CA structures carry.
struct PKCS11Signer: Signer {
    let token: PKCS11Token
    let key: BD_CK_OBJECT_HANDLE
    let publicKey: Certificate.PublicKey
    let curve: SoftwareSigner.Curve

    var signatureAlgorithm: Certificate.SignatureAlgorithm { curve == .p384 ? .ecdsaWithSHA384 : .ecdsaWithSHA256 }

    func sign(_ message: [UInt8]) throws -> [UInt8] {
        switch curve {
        case .p256:
            let raw = try token.signDigest(Array(SHA256.hash(data: message)), key: key, signatureLength: 64)
            return Array(try P256.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
        case .p384:
            let raw = try token.signDigest(Array(SHA384.hash(data: message)), key: key, signatureLength: 96)
            return Array(try P384.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
        }
    }
}

extension CAKeys {
    /// The keys `configuration` names: a PKCS#11 token when one is configured, else key files.
    public init(configuration: BizDirectConfiguration) throws(BizDirectError) {
        guard let settings = configuration.pkcs11 else {
            self = .software
            return
        }
        self.init(store: try PKCS11Token(modulePath: settings.modulePath, tokenLabel: settings.tokenLabel, pin: settings.pin),
                  issuingLabel: settings.issuingKeyLabel, ocspLabel: settings.ocspKeyLabel)
    }
}
