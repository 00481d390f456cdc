"""DER written and split by hand, for the few fixed structures the signing path builds on every
request (a signature's time-stamp token, a detached CMS over a digest, the evidence spliced into a
CMS), and the two things read from a stored certificate where loading cryptography's X.509
module would be most of a cold start (its subject's commonName, its PEM form). asn1crypto builds the same bytes from dicts, but at ~10 ms of CPU for one time-stamp token
against ~0.05 ms here, on a call that may make twenty (docs/benchmarks.md, CPU per signature).
What this module writes is checked against independent readers (openssl, pyHanko, asn1crypto) by
the tests of its callers."""

from __future__ import annotations

import base64
from functools import lru_cache

SEQUENCE, SET, INTEGER, OCTET_STRING, OBJECT_IDENTIFIER, NULL = 0x30, 0x31, 0x02, 0x04, 0x06, 0x05
UTC_TIME, GENERALIZED_TIME = 0x17, 0x18
CONTEXT_0, CONTEXT_1, CONTEXT_4 = 0xA0, 0xA1, 0xA4  # constructed context-specific tags


def tlv(tag: int, *contents: bytes) -> bytes:
    """A DER TLV: the tag (one octet), the definite length, the contents."""
    content = b"".join(contents)
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(octets))) + octets + content


def integer(value: int) -> bytes:
    """An INTEGER in the fewest two's-complement octets (X.690 8.3.2)."""
    size = ((value if value >= 0 else ~value).bit_length() + 8) // 8
    return tlv(INTEGER, value.to_bytes(size, "big", signed=True))


@lru_cache(maxsize=64)
def object_identifier(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER from its dotted form (X.690 8.19); ValueError for anything else."""
    arcs = [int(arc) for arc in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0:
        raise ValueError(f"not an object identifier: {dotted!r}")
    body = bytearray()
    for arc in (40 * arcs[0] + arcs[1], *arcs[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return tlv(OBJECT_IDENTIFIER, bytes(body))


def tlvs(data: bytes) -> list[bytes]:
    """The DER TLVs that make up `data`, each whole (definite lengths only, as DER has)."""
    items, offset = [], 0
    while offset < len(data):
        start = offset
        offset += 1
        first = data[offset]
        offset += 1
        if first < 0x80:
            length = first
        else:
            count = first & 0x7F
            length = int.from_bytes(data[offset : offset + count], "big")
            offset += count
        offset += length
        if offset > len(data):
            raise ValueError("truncated DER")
        items.append(data[start:offset])
    return items


def contents(item: bytes) -> bytes:
    """The contents octets of one whole TLV."""
    first = item[1]
    return item[2 + (first & 0x7F if first >= 0x80 else 0) :]


_COMMON_NAME = object_identifier("2.5.4.3")
_BMP_STRING = 0x1E


def subject_common_name(certificate_der: bytes) -> str | None:
    """The subject's commonName of a certificate this service issued (read from the stored DER),
    without loading cryptography's X.509 module: the window shows it on a route that needs
    nothing else from the certificate (cold start). None without a commonName."""
    (certificate,) = tlvs(certificate_der)
    tbs = tlvs(contents(certificate))[0]
    fields = tlvs(contents(tbs))
    if fields[0][0] == CONTEXT_0:  # an explicit version
        fields = fields[1:]
    subject = fields[4]  # serialNumber, signature, issuer, validity, subject
    for relative_name in tlvs(contents(subject)):
        for attribute in tlvs(contents(relative_name)):
            oid, value = tlvs(contents(attribute))
            if oid == _COMMON_NAME:
                # BMPString is UTF-16; UTF8String, PrintableString and the rest read as UTF-8.
                return contents(value).decode("utf-16-be" if value[0] == _BMP_STRING else "utf-8")
    return None


def pem(label: str, der: bytes) -> str:
    """PEM as RFC 7468 writes it (base64 in lines of 64 characters), as cryptography's
    public_bytes(Encoding.PEM) does, without loading its X.509 module."""
    encoded = base64.b64encode(der).decode()
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"
