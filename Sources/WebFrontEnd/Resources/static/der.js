// Minimal DER encoder for the structures the browser builds: PKCS#10 and PKCS#12.
// Served by BizDirect itself; no framework, no CDN.
"use strict";
const DER = (() => {
  const concat = (...parts) => {
    const total = parts.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const p of parts) { out.set(p, offset); offset += p.length; }
    return out;
  };
  const length = (n) => {
    if (n < 0x80) return Uint8Array.of(n);
    const bytes = [];
    while (n > 0) { bytes.unshift(n & 0xff); n = Math.floor(n / 256); }
    return Uint8Array.of(0x80 | bytes.length, ...bytes);
  };
  const tlv = (tag, content) => concat(Uint8Array.of(tag), length(content.length), content);
  const seq = (...items) => tlv(0x30, concat(...items));
  const set = (...items) => tlv(0x31, concat(...items));
  const integerBytes = (bytes) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0 && (bytes[i + 1] & 0x80) === 0) i++;
    const trimmed = bytes.slice(i);
    return tlv(0x02, (trimmed[0] & 0x80) ? concat(Uint8Array.of(0), trimmed) : trimmed);
  };
  const int = (n) => {
    const bytes = [];
    do { bytes.unshift(n & 0xff); n = Math.floor(n / 256); } while (n > 0);
    return integerBytes(Uint8Array.from(bytes));
  };
  const oid = (text) => {
    const arcs = text.split(".").map(Number);
    const out = [40 * arcs[0] + arcs[1]];
    for (const arc of arcs.slice(2)) {
      const chunk = [arc & 0x7f];
      let rest = Math.floor(arc / 128);
      while (rest > 0) { chunk.unshift(0x80 | (rest & 0x7f)); rest = Math.floor(rest / 128); }
      out.push(...chunk);
    }
    return tlv(0x06, Uint8Array.from(out));
  };
  const octets = (bytes) => tlv(0x04, bytes);
  const bits = (bytes) => tlv(0x03, concat(Uint8Array.of(0), bytes));
  const nul = () => Uint8Array.of(0x05, 0x00);
  const utf8 = (text) => tlv(0x0c, new TextEncoder().encode(text));
  const bmp = (text) => {
    const out = new Uint8Array(text.length * 2);
    for (let i = 0; i < text.length; i++) { out[2 * i] = text.charCodeAt(i) >> 8; out[2 * i + 1] = text.charCodeAt(i) & 0xff; }
    return tlv(0x1e, out);
  };
  const explicit = (n, content) => tlv(0xa0 + n, content);
  const implicitSet = (n, content) => tlv(0xa0 + n, content);
  // ECDSA signatures from WebCrypto are r||s; X.509 wants SEQUENCE { INTEGER r, INTEGER s }.
  const ecdsaSignature = (raw) => {
    const half = raw.length / 2;
    return seq(integerBytes(raw.slice(0, half)), integerBytes(raw.slice(half)));
  };
  const pem = (label, bytes) => {
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    const body = btoa(binary).replace(/(.{64})/g, "$1\n");
    return `-----BEGIN ${label}-----\n${body}${body.endsWith("\n") ? "" : "\n"}-----END ${label}-----\n`;
  };
  const base64 = (bytes) => { let s = ""; for (const b of bytes) s += String.fromCharCode(b); return btoa(s); };
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return { concat, tlv, seq, set, int, integerBytes, oid, octets, bits, nul, utf8, bmp, explicit, implicitSet, ecdsaSignature, pem, base64, fromBase64 };
})();
