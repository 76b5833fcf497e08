// static/pkcs.js, the page's PKCS#10 and PKCS#12 code, run on Node's WebCrypto and checked by
// the tools a customer's machine uses: openssl (req -verify, pkcs12), NSS pk12util (Chrome and
// Firefox on Linux) and Python cryptography's load_pkcs12 (OpenSSL's parser).
//
// The page keeps the PKCS#12 password exactly as typed (no normalisation; see acquire.js and the
// help text): the MAC key is derived from its UTF-16 code units (RFC 7292 B.1, a BMPString with
// surrogate pairs) and the PBES2 key from its UTF-8 bytes (RFC 8018), as importers expect. The
// passwords below cover ASCII, full width, kana and emoji (outside the BMP); each must open with
// the same password everywhere, and not with its half-width look-alike.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { DER, PKCS, run, withFolder } from "./page-scripts.mjs";

const passwords = {
  ascii: "p12-secret-pass",
  fullWidth: "ＡＢＣ１２３ｄｅｆ",
  kana: "かなカナぱすワード",
  emoji: "pass😀word🔑",
};
// What a customer might type instead: the same password in half width, or normalised.
const lookAlikes = { ascii: "P12-secret-pass", fullWidth: "ABC123def", kana: "かなカナぱすﾜｰﾄﾞ", emoji: "pass word" };

/** A key pair, its CSR, and a leaf certificate for it signed by a throwaway CA (openssl). */
async function issued(folder, commonName = "BizDirect acquisition") {
  const keyPair = await PKCS.generateKey();
  const csr = await PKCS.certificationRequest(keyPair, commonName);
  const csrFile = path.join(folder, "leaf.csr");
  writeFileSync(csrFile, DER.pem("CERTIFICATE REQUEST", csr));
  const ca = (name) => path.join(folder, name);
  let result = run("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", ca("ca.key"), "-out", ca("ca.pem"), "-subj", "/CN=Scripts Test CA", "-days", "1"]);
  assert.equal(result.status, 0, result.stderr);
  result = run("openssl", ["x509", "-req", "-in", csrFile, "-CA", ca("ca.pem"), "-CAkey", ca("ca.key"), "-days", "1",
    "-outform", "DER", "-out", ca("leaf.der")]);
  assert.equal(result.status, 0, result.stderr);
  result = run("openssl", ["x509", "-in", ca("ca.pem"), "-outform", "DER", "-out", ca("ca.der")]);
  assert.equal(result.status, 0, result.stderr);
  return { keyPair, csr, csrFile, chain: [readFileSync(ca("leaf.der")), readFileSync(ca("ca.der"))].map((b) => new Uint8Array(b)) };
}

test("the CSR is a PKCS#10 that openssl req -verify accepts, with the requested common name", async () => {
  await withFolder(async (folder) => {
    const { csrFile } = await issued(folder, "山田 太郎");
    const verified = run("openssl", ["req", "-verify", "-noout", "-subject", "-nameopt", "utf8", "-in", csrFile]);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout + verified.stderr, /verify OK/);
    assert.match(verified.stdout, /CN ?= ?山田 太郎/);
    const text = run("openssl", ["req", "-noout", "-text", "-in", csrFile]).stdout;
    assert.match(text, /ecdsa-with-SHA256/);
    assert.match(text, /prime256v1|P-256/);
  });
});

test("a CSR whose signed part was changed fails openssl req -verify (the check above can fail)", async () => {
  await withFolder(async (folder) => {
    const { csr } = await issued(folder);
    const tampered = csr.slice();
    // The last byte of the public key inside CertificationRequestInfo.
    const info = tampered.indexOf(0x03, 40);
    tampered[info + 30] ^= 0x01;
    const file = path.join(folder, "tampered.csr");
    writeFileSync(file, DER.pem("CERTIFICATE REQUEST", tampered));
    const verified = run("openssl", ["req", "-verify", "-noout", "-in", file]);
    assert.doesNotMatch(verified.stdout + verified.stderr, /verify OK/);
  });
});

const pythonLoad = `
import sys
from cryptography.hazmat.primitives.serialization import pkcs12
data = open(sys.argv[1], "rb").read()
try:
    bundle = pkcs12.load_pkcs12(data, sys.argv[2].encode("utf-8"))
except ValueError as error:
    print("refused:", error); sys.exit(3)
same = bundle.key.public_key().public_numbers() == bundle.cert.certificate.public_key().public_numbers()
print("key-matches" if same else "key-differs", len(bundle.additional_certs), (bundle.cert.friendly_name or b"").decode("utf-8"))
`;

for (const [kind, password] of Object.entries(passwords)) {
  test(`a PKCS#12 with a ${kind} password (${password}) opens with it in openssl, NSS pk12util and Python cryptography, and not with ${lookAlikes[kind]}`, async () => {
    await withFolder(async (folder) => {
      const { keyPair, chain } = await issued(folder);
      const name = "BizDirect 山田商事 taro01";
      const p12 = path.join(folder, "bundle.p12");
      writeFileSync(p12, await PKCS.pfx(keyPair, chain, password, name));

      // openssl: the MAC verifies, the bags are PBES2/SHA-256, and the key decrypts to the leaf's key.
      const env = { P12PASS: password, WRONGPASS: lookAlikes[kind] };
      const info = run("openssl", ["pkcs12", "-info", "-noout", "-in", p12, "-passin", "env:P12PASS"], { env });
      assert.equal(info.status, 0, info.stderr);
      assert.match(info.stderr, /MAC: sha256/);
      assert.match(info.stderr, /PBES2, PBKDF2, AES-256-CBC.*hmacWithSHA256/);
      const key = run("openssl", ["pkcs12", "-in", p12, "-passin", "env:P12PASS", "-nodes", "-nocerts"], { env });
      assert.equal(key.status, 0, key.stderr);
      const fromKey = run("openssl", ["pkey", "-pubout"], { input: key.stdout }).stdout;
      const fromCert = run("openssl", ["x509", "-inform", "DER", "-pubkey", "-noout"], { input: chain[0] }).stdout;
      assert.ok(fromKey.includes("BEGIN PUBLIC KEY") && fromKey === fromCert, "openssl: the key is the certificate's");
      const wrong = run("openssl", ["pkcs12", "-info", "-noout", "-in", p12, "-passin", "env:WRONGPASS"], { env });
      assert.notEqual(wrong.status, 0, "openssl opened it with the look-alike password");

      // NSS, as Chrome and Firefox on Linux import it.
      const nss = path.join(folder, "nssdb");
      run("mkdir", ["-p", nss]);
      assert.equal(run("certutil", ["-N", "-d", `sql:${nss}`, "--empty-password"]).status, 0);
      const refused = run("pk12util", ["-i", p12, "-d", `sql:${nss}`, "-W", lookAlikes[kind]]);
      assert.notEqual(refused.status, 0, "pk12util imported it with the look-alike password");
      const imported = run("pk12util", ["-i", p12, "-d", `sql:${nss}`, "-W", password]);
      assert.equal(imported.status, 0, imported.stdout + imported.stderr);
      const listed = run("certutil", ["-L", "-d", `sql:${nss}`]).stdout;
      assert.match(listed, /BizDirect 山田商事 taro01\s+u,u,u/);
      assert.equal(run("certutil", ["-K", "-d", `sql:${nss}`]).stdout.includes("BizDirect 山田商事 taro01"), true);

      // Python cryptography (OpenSSL's PKCS12_parse, no app-level fallbacks).
      const loaded = run("python3", ["-c", pythonLoad, p12, password]);
      assert.equal(loaded.status, 0, loaded.stdout + loaded.stderr);
      assert.equal(loaded.stdout.trim(), `key-matches 1 ${name}`);
      assert.notEqual(run("python3", ["-c", pythonLoad, p12, lookAlikes[kind]]).status, 0, "cryptography opened it with the look-alike password");
    });
  });
}
