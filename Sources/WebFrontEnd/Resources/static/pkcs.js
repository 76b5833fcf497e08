// PKCS#10 requests and PKCS#12 files made in the browser with WebCrypto.
// The private key is generated here and never leaves this page except inside the
// password-protected PKCS#12 that the user downloads.
"use strict";
const PKCS = (() => {
  const subtle = crypto.subtle;
  const OID = {
    ecdsaWithSHA256: "1.2.840.10045.4.3.2", commonName: "2.5.4.3", data: "1.2.840.113549.1.7.1",
    pbes2: "1.2.840.113549.1.5.13", pbkdf2: "1.2.840.113549.1.5.12", hmacWithSHA256: "1.2.840.113549.2.9",
    aes256CBC: "2.16.840.1.101.3.4.1.42", sha256: "2.16.840.1.101.3.4.2.1",
    keyBag: "1.2.840.113549.1.12.10.1.2", certBag: "1.2.840.113549.1.12.10.1.3", x509Certificate: "1.2.840.113549.1.9.22.1",
    friendlyName: "1.2.840.113549.1.9.20", localKeyId: "1.2.840.113549.1.9.21",
  };

  /** A new ECDSA P-256 key pair; extractable only so that it can be wrapped into the PKCS#12. */
  const generateKey = () => subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);

  /** A PKCS#10 request signed by the key (proof of possession). The CA ignores the subject. */
  async function certificationRequest(keyPair, commonName) {
    const spki = new Uint8Array(await subtle.exportKey("spki", keyPair.publicKey));
    const subject = DER.seq(DER.set(DER.seq(DER.oid(OID.commonName), DER.utf8(commonName))));
    const info = DER.seq(DER.int(0), subject, spki, DER.implicitSet(0, new Uint8Array(0)));
    const raw = new Uint8Array(await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keyPair.privateKey, info));
    return DER.seq(info, DER.seq(DER.oid(OID.ecdsaWithSHA256)), DER.bits(DER.ecdsaSignature(raw)));
  }

  const random = (n) => crypto.getRandomValues(new Uint8Array(n));

  /** EncryptedPrivateKeyInfo: PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC. */
  async function shroud(pkcs8, password, iterations) {
    const salt = random(16), iv = random(16);
    const base = await subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveKey"]);
    const key = await subtle.deriveKey({ name: "PBKDF2", salt, iterations, hash: "SHA-256" }, base,
      { name: "AES-CBC", length: 256 }, false, ["encrypt"]);
    const encrypted = new Uint8Array(await subtle.encrypt({ name: "AES-CBC", iv }, key, pkcs8));
    const algorithm = DER.seq(DER.oid(OID.pbes2), DER.seq(
      DER.seq(DER.oid(OID.pbkdf2), DER.seq(DER.octets(salt), DER.int(iterations), DER.seq(DER.oid(OID.hmacWithSHA256), DER.nul()))),
      DER.seq(DER.oid(OID.aes256CBC), DER.octets(iv))));
    return DER.seq(algorithm, DER.octets(encrypted));
  }

  /** RFC 7292 appendix B key derivation (ID 3 = MAC key) with SHA-256. */
  async function pkcs12MacKey(password, salt, iterations) {
    const v = 64;
    const pass = new Uint8Array((password.length + 1) * 2);
    for (let i = 0; i < password.length; i++) { pass[2 * i] = password.charCodeAt(i) >> 8; pass[2 * i + 1] = password.charCodeAt(i) & 0xff; }
    const fill = (bytes) => { const out = new Uint8Array(Math.ceil(bytes.length / v) * v); for (let i = 0; i < out.length; i++) out[i] = bytes[i % bytes.length]; return out; };
    let block = DER.concat(new Uint8Array(v).fill(3), fill(salt), fill(pass));
    for (let i = 0; i < iterations; i++) block = new Uint8Array(await subtle.digest("SHA-256", block));
    return block; // 32 bytes: one hash block is the whole key
  }

  const attributes = (name, keyId) => DER.set(
    DER.seq(DER.oid(OID.friendlyName), DER.set(DER.bmp(name))),
    DER.seq(DER.oid(OID.localKeyId), DER.set(DER.octets(keyId))));
  const dataContent = (bytes) => DER.seq(DER.oid(OID.data), DER.explicit(0, DER.octets(bytes)));

  /** A password-protected PKCS#12 holding the key and the certificate chain (leaf first). */
  async function pfx(keyPair, chain, password, name) {
    const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", keyPair.privateKey));
    const keyId = new Uint8Array(await subtle.digest("SHA-256", chain[0])).slice(0, 20);
    const keyBag = DER.seq(DER.oid(OID.keyBag), DER.explicit(0, await shroud(pkcs8, password, 100000)), attributes(name, keyId));
    const certBags = chain.map((der, index) => DER.seq(DER.oid(OID.certBag),
      DER.explicit(0, DER.seq(DER.oid(OID.x509Certificate), DER.explicit(0, DER.octets(der)))),
      ...(index === 0 ? [attributes(name, keyId)] : [])));
    const authSafe = DER.seq(dataContent(DER.seq(...certBags)), dataContent(DER.seq(keyBag)));
    const salt = random(16), iterations = 2048;
    const macKey = await subtle.importKey("raw", await pkcs12MacKey(password, salt, iterations), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await subtle.sign("HMAC", macKey, authSafe));
    const macData = DER.seq(DER.seq(DER.seq(DER.oid(OID.sha256), DER.nul()), DER.octets(mac)), DER.octets(salt), DER.int(iterations));
    return DER.seq(DER.int(3), dataContent(authSafe), macData);
  }

  return { generateKey, certificationRequest, pfx };
})();
