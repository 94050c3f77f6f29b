"""adbd's side of AUTH (daemon/auth.cpp, adb.cpp handle_packet A_AUTH), for ``ro.adb.secure=1``.

On the host's CNXN the device sends ``AUTH(TOKEN, 0, 20 random bytes)``. The host answers
``AUTH(SIGNATURE, 0, sig)`` once per private key it has; a signature that verifies against a
key in ``/data/misc/adb/adb_keys`` puts the transport online (CNXN). Otherwise the device sends
a fresh token; when the host has no key left it sends ``AUTH(RSAPUBLICKEY, 0, "<b64> user@host\\0")``
and the phone shows "Allow USB debugging?". The virtual user's answer is ``allow_new_keys``:
allow (the key is remembered in adb_keys and CNXN follows) or nothing (the transport stays
``unauthorized``, as with a locked phone nobody looks at).

Keys are in Android's own public-key format (libcrypto_utils android_pubkey): little-endian
uint32 modulus size in words (64 for RSA-2048), n0inv, the modulus, R^2 mod n, the exponent.
adb signs the token as an already computed SHA-1 digest (RSA_sign(NID_sha1, token, 20)):
PKCS#1 v1.5 with the SHA-1 DigestInfo, which verifying needs no library.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct

AUTH_TOKEN = 1
AUTH_SIGNATURE = 2
AUTH_RSAPUBLICKEY = 3
TOKEN_SIZE = 20
#: Where adbd keeps the keys the user allowed.
ADB_KEYS = "/data/misc/adb/adb_keys"

_SHA1_DIGEST_INFO = bytes.fromhex("3021300906052b0e03021a05000414")
_WORDS = 64


def new_token() -> bytes:
    return os.urandom(TOKEN_SIZE)


def parse_public_key(text: str) -> tuple[int, int] | None:
    """(modulus, exponent) of one ``adb_keys`` line / RSAPUBLICKEY payload, or None if malformed."""
    blob = text.strip().split(" ", 1)[0].rstrip("\0")
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 4 + 4 + 4 * _WORDS * 2 + 4:
        return None
    (words,) = struct.unpack_from("<I", raw, 0)
    if words != _WORDS:
        return None
    modulus = int.from_bytes(raw[8:8 + 4 * _WORDS], "little")
    (exponent,) = struct.unpack_from("<I", raw, 8 + 8 * _WORDS)
    return (modulus, exponent) if modulus > 0 and exponent > 1 else None


def verify(key: tuple[int, int], token: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the key's PKCS#1 v1.5 SHA-1 signature of ``token``."""
    modulus, exponent = key
    size = (modulus.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    value = int.from_bytes(signature, "big")
    if value >= modulus:
        return False
    block = pow(value, exponent, modulus).to_bytes(size, "big")
    suffix = b"\0" + _SHA1_DIGEST_INFO + token
    padding = size - 2 - len(suffix)
    return padding >= 8 and block == b"\0\1" + b"\xff" * padding + suffix
