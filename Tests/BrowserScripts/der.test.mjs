// Known-answer tests of static/der.js, the DER encoder the acquisition page builds its PKCS#10
// and PKCS#12 with. Every boundary of the definite length form (X.690 8.1.3) is checked against
// fixed bytes and against openssl asn1parse, an independent decoder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { DER, hex, fromHex, run, withFolder, pageScripts } from "./page-scripts.mjs";

test("the page loads der.js before pkcs.js before acquire.js", () => {
  assert.deepEqual(pageScripts, ["der.js", "pkcs.js", "acquire.js"]);
});

// Content length -> the identifier and length octets of an OCTET STRING of that many bytes.
const lengthBoundaries = [
  [0, "0400"], [1, "0401"], [127, "047f"], [128, "048180"], [255, "0481ff"], [256, "04820100"],
  [65535, "0482ffff"], [65536, "0483010000"], [16777215, "0483ffffff"], [16777216, "048401000000"],
];

test("definite lengths at every boundary: short form to 127, then the fewest length octets", () => {
  for (const [n, header] of lengthBoundaries) {
    const content = new Uint8Array(n).fill(0xab);
    const encoded = DER.octets(content);
    assert.equal(hex(encoded.slice(0, header.length / 2)), header, `length ${n}`);
    assert.equal(encoded.length, header.length / 2 + n, `length ${n}: total size`);
    assert.ok(encoded.slice(header.length / 2).every((b) => b === 0xab), `length ${n}: content follows the header`);
  }
});

test("openssl asn1parse reads the same lengths back, nested in a SEQUENCE", async () => {
  await withFolder(async (folder) => {
    for (const [n] of lengthBoundaries.filter(([n]) => n <= 65536)) {
      const file = path.join(folder, `len-${n}.der`);
      writeFileSync(file, DER.seq(DER.octets(new Uint8Array(n)), DER.nul()));
      const parsed = run("openssl", ["asn1parse", "-inform", "DER", "-in", file]);
      assert.equal(parsed.status, 0, parsed.stderr);
      const lines = parsed.stdout.trim().split("\n");
      const outerLength = n + (n < 128 ? 2 : n < 256 ? 3 : n < 65536 ? 4 : 5) + 2;
      assert.match(lines[0], new RegExp(`l= *${outerLength} cons: SEQUENCE`), `length ${n}: ${lines[0]}`);
      assert.match(lines[1], new RegExp(`l= *${n} prim: OCTET STRING`), `length ${n}: ${lines[1]}`);
      assert.match(lines[2], /l= *0 prim: NULL/);
    }
  });
});

test("INTEGER: minimal two's complement, a leading zero only before a set high bit", () => {
  const cases = [[0, "020100"], [1, "020101"], [127, "02017f"], [128, "02020080"], [255, "020200ff"], [256, "02020100"],
    [2048, "02020800"], [65535, "020300ffff"], [65536, "0203010000"], [100000, "020301 86a0"], [2 ** 32, "02050100000000"]];
  for (const [n, expected] of cases) assert.equal(hex(DER.int(n)), expected.replace(/\s/g, ""), `int ${n}`);
  assert.equal(hex(DER.integerBytes(fromHex("000001"))), "020101");
  assert.equal(hex(DER.integerBytes(fromHex("0080"))), "02020080");
  assert.equal(hex(DER.integerBytes(fromHex("000080"))), "02020080");
  assert.equal(hex(DER.integerBytes(fromHex("80"))), "02020080");
  assert.equal(hex(DER.integerBytes(fromHex("00"))), "020100");
});

test("OBJECT IDENTIFIER: the first two arcs in one octet, base-128 arcs with continuation bits", () => {
  const cases = [
    ["2.5.4.3", "0603550403"],
    ["1.2.840.10045.4.3.2", "06082a8648ce3d040302"],
    ["1.2.840.113549.1.12.10.1.2", "060b2a864886f70d010c0a0102"],
    ["2.16.840.1.101.3.4.1.42", "060960864801650304012a"],
    ["1.2.840.113549.1.9.22.1", "060a2a864886f70d01091601"],
  ];
  for (const [text, expected] of cases) assert.equal(hex(DER.oid(text)), expected, text);
});

test("strings: UTF8String as UTF-8, BMPString as UTF-16 code units (surrogate pairs for emoji)", () => {
  assert.equal(hex(DER.utf8("山田")), "0c06e5b1b1e794b0");
  assert.equal(hex(DER.utf8("ＡＢ")), "0c06efbca1efbca2");
  assert.equal(hex(DER.bmp("A山")), "1e0400415c71");
  assert.equal(hex(DER.bmp("😀")), "1e04d83dde00");
  assert.equal(hex(DER.bmp("")), "1e00");
});

test("BIT STRING, NULL, SET, context tags", () => {
  assert.equal(hex(DER.bits(fromHex("0102"))), "0303000102");
  assert.equal(hex(DER.nul()), "0500");
  assert.equal(hex(DER.set(DER.nul(), DER.nul())), "310405000500");
  assert.equal(hex(DER.explicit(0, DER.nul())), "a0020500");
  assert.equal(hex(DER.implicitSet(0, new Uint8Array(0))), "a000");
});

test("an ECDSA signature r||s becomes SEQUENCE { INTEGER r, INTEGER s }, minimal each", () => {
  const r = "00".repeat(1) + "7f" + "11".repeat(30), s = "80" + "22".repeat(31);
  const encoded = hex(DER.ecdsaSignature(fromHex(r + s)));
  assert.equal(encoded, "3044" + "021f7f" + "11".repeat(30) + "022100" + "80" + "22".repeat(31));
});

test("PEM: 64 characters a line, the last line ended, labels around", () => {
  const one = DER.pem("X", new Uint8Array(48)), two = DER.pem("X", new Uint8Array(49));
  assert.equal(one, `-----BEGIN X-----\n${"A".repeat(64)}\n-----END X-----\n`);
  assert.equal(two.split("\n").length, 5);
  assert.deepEqual(DER.fromBase64(DER.base64(fromHex("00ff10"))), fromHex("00ff10"));
});
