#!/usr/bin/env python3
"""Writes vectors.json: known-answer vectors for clickid's compact form, signed IDs and tokens.

It implements the formats from the package documentation independently of the Go code, so the
Go tests check the code against the specification, not against itself.
Run: python3 gen_vectors.py > vectors.json
"""
import hashlib
import hmac
import json
import uuid

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def b32(data: bytes) -> str:
    """Unpadded Crockford base32, most significant bit first, trailing bits zero-filled."""
    bits = "".join(f"{b:08b}" for b in data)
    bits += "0" * (-len(bits) % 5)
    return "".join(ALPHABET[int(bits[i:i + 5], 2)] for i in range(0, len(bits), 5))


def compact(u: uuid.UUID) -> str:
    """The 128-bit value with two zero bits in front: 130 bits, 26 characters."""
    bits = "00" + f"{u.int:0128b}"
    return "".join(ALPHABET[int(bits[i:i + 5], 2)] for i in range(0, 130, 5))


def signed_id(secret: bytes, kid: int, u: uuid.UUID) -> str:
    tag = hmac.new(secret, b"s2s-clickid-v1\x00" + bytes([kid]) + u.bytes, hashlib.sha256).digest()[:10]
    return compact(u) + ALPHABET[kid] + b32(tag)


def token(secret: bytes, kid: int, u: uuid.UUID, aff: str, camp: str) -> str:
    a, c = aff.encode(), camp.encode()
    payload = bytes([1, kid]) + u.bytes + bytes([len(a)]) + a + bytes([len(c)]) + c
    tag = hmac.new(secret, b"s2s-token-v1\x00" + payload, hashlib.sha256).digest()[:10]
    return b32(payload + tag)


SECRET_A = b"0123456789abcdef0123456789abcdef"
SECRET_B = bytes(range(1, 25))  # the shortest secret allowed: 24 bytes
IDS = [
    "0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b",
    "00000000-0000-7000-8000-000000000001",
    "ffffffff-ffff-7fff-bfff-ffffffffffff",
    "017f22e2-79b0-7cc3-98c4-dc0c0c07398f",  # the UUIDv7 example of RFC 9562 appendix A.6
    "f81d4fae-7dec-41d0-a765-00a0c91e6bf6",  # a UUIDv4 (RFC 9562 example): any 128 bits sign
]

out = {
    "compact": [{"uuid": i, "compact": compact(uuid.UUID(i))} for i in IDS],
    "signed": [],
    "tokens": [],
}
for secret, kid in ((SECRET_A, 0), (SECRET_A, 1), (SECRET_B, 31)):
    for i in IDS:
        out["signed"].append({
            "secret_hex": secret.hex(), "kid": kid, "uuid": i,
            "signed": signed_id(secret, kid, uuid.UUID(i)),
        })
for secret, kid, aff, camp in (
    (SECRET_A, 1, "aff-42", "casino-summer"),
    (SECRET_A, 2, "7", ""),
    (SECRET_B, 31, "a" * 64, "c" * 64),
    (SECRET_B, 0, "партнёр", "кампания"),
):
    i = IDS[0]
    out["tokens"].append({
        "secret_hex": secret.hex(), "kid": kid, "uuid": i, "affiliate": aff, "campaign": camp,
        "token": token(secret, kid, uuid.UUID(i), aff, camp),
    })
print(json.dumps(out, indent=2, ensure_ascii=False))
