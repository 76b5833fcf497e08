#!/usr/bin/env python3
"""Writes the adversarial CSR corpus and the OCSP crash inputs beside this script.

Each CSR file is named EXPECTED--what.der (or .pem): EXPECTED is `accept` or the reason
CSRCheck must give. The OCSP files are the inputs that trapped the old parser (one per place
that force-unwrapped), named REASON--what.der. Run it again only to change the corpus; the
files are committed, so the tests do not depend on Python.
"""
import pathlib
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, ed25519, padding
from cryptography.x509.oid import NameOID

HERE = pathlib.Path(__file__).resolve().parent


def length(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag, content):
    return bytes([tag]) + length(len(content)) + content


def parse(der):
    """(tag, content, rest) of the first TLV."""
    tag, first = der[0], der[1]
    if first < 0x80:
        size, start = first, 2
    else:
        count = first & 0x7F
        size, start = int.from_bytes(der[2:2 + count], "big"), 2 + count
    return tag, der[start:start + size], der[start + size:]


def children(content):
    out = []
    while content:
        tag, body, rest = parse(content)
        out.append(content[: len(content) - len(rest)])
        content = rest
    return out


def oid(dotted):
    parts = [int(p) for p in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        chunk = [p & 0x7F]
        p >>= 7
        while p:
            chunk.insert(0, 0x80 | (p & 0x7F))
            p >>= 7
        body += bytes(chunk)
    return tlv(0x06, body)


def csr(key, digest=hashes.SHA256()):
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "corpus")]))
    return builder.sign(key, digest).public_bytes(serialization.Encoding.DER)


def resign(key, info, algorithm, digest=None):
    """A CSR with `info` signed by `key` (really, with `digest`) under the AlgorithmIdentifier `algorithm` (DER)."""
    digest = digest or hashes.SHA256()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(info, ec.ECDSA(digest))
    else:
        signature = key.sign(info, padding.PKCS1v15(), digest)
    return tlv(0x30, info + algorithm + tlv(0x03, b"\x00" + signature))


def with_version(der, key, version):
    _, body, _ = parse(der)
    info, algorithm, _ = children(body)
    _, info_body, _ = parse(info)
    fields = children(info_body)
    fields[0] = tlv(0x02, bytes([version]))
    return resign(key, tlv(0x30, b"".join(fields)), algorithm)


def with_algorithm(der, key, algorithm, digest=None):
    _, body, _ = parse(der)
    info = children(body)[0]
    return resign(key, info, algorithm, digest)


def write(name, data):
    (HERE / "csr" / name).write_bytes(data)


p256 = ec.generate_private_key(ec.SECP256R1())
p384 = ec.generate_private_key(ec.SECP384R1())
rsa2048 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rsa1024 = rsa.generate_private_key(public_exponent=65537, key_size=1024)
good = csr(p256)
pem = x509.load_der_x509_csr(good).public_bytes(serialization.Encoding.PEM)

write("accept--p256.der", good)
write("accept--p384-sha384.der", csr(p384, hashes.SHA384()))
write("accept--rsa2048.der", csr(rsa2048))
write("accept--p256.pem", pem)
write("accept--p256-pem-with-whitespace.pem", b"\n  " + pem + b"\n\n")
# Certified by the old check: a version other than 1, SHA-1, two PEM blocks, and text after the block.
write("csr.version--version-2.der", with_version(good, p256, 1))
write("csr.version--version-3.der", with_version(good, p256, 2))
write("csr.weakSignature--rsa-sha1.der", with_algorithm(csr(rsa2048), rsa2048, tlv(0x30, oid("1.2.840.113549.1.1.5") + b"\x05\x00"), hashes.SHA1()))
write("csr.weakSignature--ecdsa-sha1.der", with_algorithm(good, p256, tlv(0x30, oid("1.2.840.10045.4.1")), hashes.SHA1()))
write("csr.weakSignature--rsa-md5-field.der", with_algorithm(csr(rsa2048), rsa2048, tlv(0x30, oid("1.2.840.113549.1.1.4") + b"\x05\x00")))
write("csr.multiple--two-pem-blocks.pem", pem + pem)
write("csr.pem--text-after-block.pem", pem + b"extra text\n")
# Refused for the wrong cause by the old check ("key type not supported" for a P-256 key).
write("csr.signatureMismatch--p256-with-rsa-field.der", with_algorithm(good, p256, tlv(0x30, oid("1.2.840.113549.1.1.11") + b"\x05\x00")))
write("csr.signatureMismatch--rsa-with-ecdsa-field.der", with_algorithm(csr(rsa2048), rsa2048, tlv(0x30, oid("1.2.840.10045.4.3.2"))))
write("csr.signatureAlgorithm--unknown-oid.der", with_algorithm(good, p256, tlv(0x30, oid("1.2.3.4.5"))))
write("csr.signatureAlgorithm--ecdsa-null-parameters.der", with_algorithm(good, p256, tlv(0x30, oid("1.2.840.10045.4.3.2") + b"\x05\x00")))
flipped = bytearray(good)
flipped[-5] ^= 0x01
write("csr.badSignature--flipped-signature.der", bytes(flipped))
write("csr.notDER--trailing-byte.der", good + b"\x00")
write("csr.notDER--truncated.der", good[:-10])
write("csr.notDER--empty.der", b"")
write("csr.notDER--indefinite-length.der", b"\x30\x80" + parse(good)[1] + b"\x00\x00")
write("csr.notDER--huge-length.der", b"\x30\x84\xff\xff\xff\xff" + good[2:])
write("csr.structure--empty-sequence.der", b"\x30\x00")
write("csr.structure--nested-empty.der", b"\x30\x06\x30\x00\x30\x00\x03\x00")
write("csr.structure--extra-element.der", tlv(0x30, parse(good)[1] + b"\x05\x00"))
_, body, _ = parse(good)
info, algorithm, signature = children(body)
_, info_body, _ = parse(info)
fields = children(info_body)
write("csr.structure--no-attributes.der", tlv(0x30, tlv(0x30, b"".join(fields[:3])) + algorithm + signature))
write("csr.structure--wrong-outer-tag.der", b"\x31" + good[1:])
write("csr.keyUnsupported--p521.der", csr(ec.generate_private_key(ec.SECP521R1()), hashes.SHA512()))
write("csr.keyUnsupported--secp256k1.der", csr(ec.generate_private_key(ec.SECP256K1())))
write("csr.keyUnsupported--ed25519.der", x509.CertificateSigningRequestBuilder().subject_name(
    x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "corpus")])).sign(ed25519.Ed25519PrivateKey.generate(), None).public_bytes(serialization.Encoding.DER))
write("csr.keyUnsupported--rsa1024.der", csr(rsa1024))
write("csr.tooLarge--65537-bytes.der", b"\x30" + b"\x00" * 65536)

# OCSP inputs that reached a force-unwrap in the old parser, one per place.
cert_id = tlv(0x30, tlv(0x30, oid("1.3.14.3.2.26") + b"\x05\x00") + tlv(0x04, b"\x00" * 20) + tlv(0x04, b"\x00" * 20) + tlv(0x02, b"\x01"))
def ocsp(requests, extensions=b""):
    tbs = tlv(0x30, tlv(0x30, requests) + extensions)
    return tlv(0x30, tbs)
(HERE / "ocsp" / "ocsp.structure--empty-request.der").write_bytes(b"\x30\x00")
(HERE / "ocsp" / "ocsp.structure--empty-single-request.der").write_bytes(ocsp(tlv(0x30, b"")))
(HERE / "ocsp" / "ocsp.structure--empty-cert-id.der").write_bytes(ocsp(tlv(0x30, tlv(0x30, b""))))
(HERE / "ocsp" / "ocsp.structure--extension-without-value.der").write_bytes(
    ocsp(tlv(0x30, cert_id), tlv(0xA2, tlv(0x30, tlv(0x30, oid("1.3.6.1.5.5.7.48.1.2"))))))
(HERE / "ocsp" / "ocsp.structure--critical-extension-without-value.der").write_bytes(
    ocsp(tlv(0x30, cert_id), tlv(0xA2, tlv(0x30, tlv(0x30, oid("1.3.6.1.5.5.7.48.1.2") + b"\x01\x01\xff")))))
