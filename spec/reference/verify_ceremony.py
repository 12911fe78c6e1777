#!/usr/bin/env python3
"""Reference verifier of Tabella's key-ceremony test vectors, written from spec/ceremonies.md and
spec/crypto.md alone.

    python3 spec/reference/verify_ceremony.py [FILE.json …] [--self-test]

Without a file it checks spec/vectors/ceremony.json (an honest 2-of-3 key ceremony and a tally
with one trustee absent) and spec/vectors/ceremony-complaint.json (a 2-of-5 key ceremony with three
complaints). For each file, as an observer would: the parameters and the announcements' signatures
(§2.1), the ceremony id (§1.4), every dealer message in the order of §2.2's table (signature,
commitments, proof of knowledge of a_i0, envelopes, the DKG-ENV-2 proof of knowledge of each
envelope's ephemeral secret), every check message (§2.4) and its `seen` digests, every complaint
(its DLEQ proof, the envelope opened with the revealed K: HKDF-SHA-512, ChaCha20-Poly1305, the
Feldman check, the verdict), the outcome recomputed by §2.5's rules (QUAL, faults, joint key,
verification keys, digests) and, where the file has one, the tally (§3: the request and its digest,
each partial decryption and its proofs, the Lagrange combination and the totals). Prints one line
per check and exits 0 only if every check passes.

--self-test runs the known-answer tests of ChaCha20, Poly1305, the AEAD (RFC 8439) and HKDF (RFC
5869), then changes the vectors (a sealed share, an ephemeral proof, a complaint's K, a DLEQ proof,
a signature, two swapped commitments, …) and checks that exactly the expected checks fail.

Pure Python 3.11 standard library. § without a document name is spec/ceremonies.md; "crypto.md §"
is spec/crypto.md.
"""

import copy
import hashlib
import hmac
import json
import os
import struct
import sys
import time
import unicodedata

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ristretto255 as r255  # noqa: E402
from ristretto255 import G, G_BYTES, L, Transcript, decode, encode, eq, msm  # noqa: E402
from verify_vectors import discrete_log  # noqa: E402  (crypto.md §4.3)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FILES = [
    os.path.join(HERE, "..", "vectors", "ceremony.json"),
    os.path.join(HERE, "..", "vectors", "ceremony-complaint.json"),
]

PROTOCOL_VERSION = 1
MAX_TRUSTEES = 64
MAX_NAME_LEN = 64
SEALED_LEN = 48
MAX_COUNT = 2**40
U32 = 2**32 - 1
U64 = 2**64 - 1


class Undecodable(Exception):
    """A message that does not parse (strict JSON, hex, points): §1.4, crypto.md §2."""


# ---------------------------------------------------------------------------------------------
# ChaCha20, Poly1305 and the AEAD (RFC 8439), HKDF (RFC 5869)
# ---------------------------------------------------------------------------------------------

_M32 = 0xFFFFFFFF


def _quarter(x, a, b, c, d):
    x[a] = (x[a] + x[b]) & _M32
    x[d] ^= x[a]
    x[d] = ((x[d] << 16) | (x[d] >> 16)) & _M32
    x[c] = (x[c] + x[d]) & _M32
    x[b] ^= x[c]
    x[b] = ((x[b] << 12) | (x[b] >> 20)) & _M32
    x[a] = (x[a] + x[b]) & _M32
    x[d] ^= x[a]
    x[d] = ((x[d] << 8) | (x[d] >> 24)) & _M32
    x[c] = (x[c] + x[d]) & _M32
    x[b] ^= x[c]
    x[b] = ((x[b] << 7) | (x[b] >> 25)) & _M32


def chacha20_block(key, counter, nonce):
    """RFC 8439 §2.3: one 64-byte block (32-byte key, 32-bit counter, 96-bit nonce)."""
    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    state += list(struct.unpack("<8I", key)) + [counter & _M32] + list(struct.unpack("<3I", nonce))
    x = state[:]
    for _ in range(10):
        _quarter(x, 0, 4, 8, 12)
        _quarter(x, 1, 5, 9, 13)
        _quarter(x, 2, 6, 10, 14)
        _quarter(x, 3, 7, 11, 15)
        _quarter(x, 0, 5, 10, 15)
        _quarter(x, 1, 6, 11, 12)
        _quarter(x, 2, 7, 8, 13)
        _quarter(x, 3, 4, 9, 14)
    return struct.pack("<16I", *[(a + b) & _M32 for a, b in zip(x, state)])


def chacha20(key, counter, nonce, data):
    """RFC 8439 §2.4: data XOR the key stream from block `counter` on."""
    out = bytearray()
    for i in range(0, len(data), 64):
        block = chacha20_block(key, counter + i // 64, nonce)
        out += bytes(a ^ b for a, b in zip(data[i : i + 64], block))
    return bytes(out)


def poly1305(key, msg):
    """RFC 8439 §2.5: the 16-byte tag of msg under a one-time 32-byte key."""
    r = int.from_bytes(key[:16], "little") & 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF
    s = int.from_bytes(key[16:32], "little")
    p = (1 << 130) - 5
    acc = 0
    for i in range(0, len(msg), 16):
        acc = (acc + int.from_bytes(msg[i : i + 16] + b"\x01", "little")) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


def _aead_mac_data(aad, ct):
    def pad16(b):
        return bytes(-len(b) % 16)

    return aad + pad16(aad) + ct + pad16(ct) + struct.pack("<QQ", len(aad), len(ct))


def aead_seal(key, nonce, aad, plaintext):
    """RFC 8439 §2.8 AEAD_CHACHA20_POLY1305 encryption: ciphertext ‖ tag (used by the self-test)."""
    otk = chacha20_block(key, 0, nonce)[:32]
    ct = chacha20(key, 1, nonce, plaintext)
    return ct + poly1305(otk, _aead_mac_data(aad, ct))


def aead_open(key, nonce, aad, sealed):
    """RFC 8439 §2.8 decryption: the plaintext, or None if the tag does not verify."""
    if len(sealed) < 16:
        return None
    ct, tag = sealed[:-16], sealed[-16:]
    otk = chacha20_block(key, 0, nonce)[:32]
    if not hmac.compare_digest(poly1305(otk, _aead_mac_data(aad, ct)), tag):
        return None
    return chacha20(key, 1, nonce, ct)


def hkdf(hash_name, salt, ikm, info, length):
    """RFC 5869: HKDF-Extract then HKDF-Expand with HMAC-<hash_name>."""
    prk = hmac.new(salt, ikm, hash_name).digest()
    okm, block, i = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([i]), hash_name).digest()
        okm += block
        i += 1
    return okm[:length]


# ---------------------------------------------------------------------------------------------
# Canonical encoding (§1.4, CEREMONY-ENC-1)
# ---------------------------------------------------------------------------------------------


def u32(v):
    return v.to_bytes(4, "little")


def u64(v):
    return v.to_bytes(8, "little")


def var(b):
    """A variable field: u64_le(len) ‖ bytes."""
    return u64(len(b)) + b


def announcement_body(election_id, name, y_raw):
    return var(b"announcement") + election_id + var(name.encode()) + y_raw


def ceremony_id(election_id, t, announcements):
    data = var(b"tabella/v1/ceremony") + election_id + u32(t) + u32(len(announcements))
    for a in announcements:
        data += var(announcement_body(a["election_id"], a["name"], a["key"][0])) + a["signature"]
    return hashlib.sha256(data).digest()


def dealer_body(d):
    out = var(b"dealer") + d["ceremony"] + u32(d["dealer"]) + u32(len(d["commitments"]))
    out += b"".join(raw for raw, _ in d["commitments"]) + d["proof"] + u32(len(d["shares"]))
    for s in d["shares"]:
        out += u32(s["recipient"]) + s["ephemeral"][0] + s["ephemeral_proof"] + var(s["sealed"])
    return out


def check_body(c):
    out = var(b"check") + c["ceremony"] + u32(c["trustee"]) + u32(len(c["seen"]))
    out += b"".join(u32(i) + digest for i, digest in c["seen"])
    out += u32(len(c["complaints"]))
    for k in c["complaints"]:
        out += u32(k["dealer"]) + k["shared"][0] + var(k["proof"])
    return out


def request_body(r):
    out = var(b"tally-request") + r["ceremony"] + r["joint_key"][0] + u64(r["max_count"]) + u32(len(r["items"]))
    for item in r["items"]:
        out += var(item["label"].encode()) + item["raw"]
    return out


def partial_body(p):
    out = var(b"partial-decryption") + p["ceremony"] + u32(p["trustee"]) + p["request"] + u32(len(p["shares"]))
    return out + b"".join(s["raw"] for s in p["shares"])


def message_digest(kind, body, signature):
    return hashlib.sha256(var(b"tabella/v1/message-digest") + var(kind) + var(body) + signature).digest()


def envelope_ad(cid, i, j, y_raw, e_raw):
    return var(b"tabella/v1/share-envelope") + cid + u32(i) + u32(j) + y_raw + e_raw


def proof_context(cid, j, request_digest, k):
    return var(b"tabella/v1/partial-decryption") + cid + u32(j) + request_digest + u32(k)


# ---------------------------------------------------------------------------------------------
# Strict JSON (§1.4 "JSON"; crypto.md §2.1–§2.4)
# ---------------------------------------------------------------------------------------------


def exact(what, obj, fields):
    """deny_unknown_fields, and no field missing."""
    if not isinstance(obj, dict):
        raise Undecodable(f"{what}: not a JSON object")
    if set(obj) != set(fields):
        extra, missing = sorted(set(obj) - set(fields)), sorted(set(fields) - set(obj))
        raise Undecodable(f"{what}: fields must be exactly {sorted(fields)} (extra {extra}, missing {missing})")


def hex_bytes(what, text, length=None):
    """Canonical lowercase hex (crypto.md §2.4), optionally of a fixed length."""
    if not isinstance(text, str) or len(text) % 2 or any(c not in "0123456789abcdef" for c in text):
        raise Undecodable(f"{what}: not canonical lowercase hex")
    b = bytes.fromhex(text)
    if length is not None and len(b) != length:
        raise Undecodable(f"{what}: {len(b)} bytes, not {length}")
    return b


def point(what, text, identity_ok=False):
    """A strictly decoded point (crypto.md §2.1) as (raw bytes, point)."""
    raw = hex_bytes(what, text, 32)
    P = decode(raw)
    if P is None:
        raise Undecodable(f"{what}: not a canonical ristretto255 encoding")
    if raw == bytes(32) and not identity_ok:
        raise Undecodable(f"{what}: the identity is refused here")
    return raw, P


def integer(what, value, top):
    if type(value) is not int or not 0 <= value <= top:
        raise Undecodable(f"{what}: not an integer in [0, {top}]")
    return value


def parse_announcement(what, a):
    exact(what, a, ["election_id", "name", "identity_key", "signature"])
    if not isinstance(a["name"], str):
        raise Undecodable(f"{what}: name is not a string")
    return {
        "election_id": hex_bytes(f"{what} election_id", a["election_id"], 32),
        "name": a["name"],
        "key": point(f"{what} identity_key", a["identity_key"]),
        "signature": hex_bytes(f"{what} signature", a["signature"], 64),
    }


def parse_params(p):
    exact("params", p, ["election_id", "threshold", "trustees"])
    if not isinstance(p["trustees"], list):
        raise Undecodable("params: trustees is not a list")
    return {
        "election_id": hex_bytes("params election_id", p["election_id"], 32),
        "t": integer("params threshold", p["threshold"], U32),
        "trustees": [parse_announcement(f"announcement {k + 1}", a) for k, a in enumerate(p["trustees"])],
    }


def parse_dealer(what, m):
    exact(what, m, ["ceremony", "dealer", "commitments", "proof", "shares", "signature"])
    if not isinstance(m["commitments"], list) or not isinstance(m["shares"], list):
        raise Undecodable(f"{what}: commitments and shares must be lists")
    shares = []
    for k, s in enumerate(m["shares"]):
        sw = f"{what} share {k + 1}"
        exact(sw, s, ["recipient", "ephemeral", "ephemeral_proof", "sealed"])
        shares.append({
            "recipient": integer(f"{sw} recipient", s["recipient"], U32),
            "ephemeral": point(f"{sw} ephemeral", s["ephemeral"]),
            "ephemeral_proof": hex_bytes(f"{sw} ephemeral_proof", s["ephemeral_proof"], 64),
            "sealed": hex_bytes(f"{sw} sealed", s["sealed"]),
        })
    return {
        "ceremony": hex_bytes(f"{what} ceremony", m["ceremony"], 32),
        "dealer": integer(f"{what} dealer", m["dealer"], U32),
        "commitments": [point(f"{what} commitment {k}", c) for k, c in enumerate(m["commitments"])],
        "proof": hex_bytes(f"{what} proof", m["proof"], 64),
        "shares": shares,
        "signature": hex_bytes(f"{what} signature", m["signature"], 64),
    }


def parse_check(what, m):
    exact(what, m, ["ceremony", "trustee", "seen", "complaints", "signature"])
    if not isinstance(m["seen"], list) or not isinstance(m["complaints"], list):
        raise Undecodable(f"{what}: seen and complaints must be lists")
    seen = []
    for k, s in enumerate(m["seen"]):
        exact(f"{what} seen {k + 1}", s, ["dealer", "digest"])
        seen.append((integer(f"{what} seen dealer", s["dealer"], U32), hex_bytes(f"{what} seen digest", s["digest"], 32)))
    complaints = []
    for k, c in enumerate(m["complaints"]):
        cw = f"{what} complaint {k + 1}"
        exact(cw, c, ["dealer", "shared", "proof"])
        complaints.append({
            "dealer": integer(f"{cw} dealer", c["dealer"], U32),
            "shared": point(f"{cw} shared", c["shared"]),
            "proof": hex_bytes(f"{cw} proof", c["proof"], 96),
        })
    return {
        "ceremony": hex_bytes(f"{what} ceremony", m["ceremony"], 32),
        "trustee": integer(f"{what} trustee", m["trustee"], U32),
        "seen": seen,
        "complaints": complaints,
        "signature": hex_bytes(f"{what} signature", m["signature"], 64),
    }


def parse_request(r):
    exact("request", r, ["ceremony", "joint_key", "max_count", "items"])
    if not isinstance(r["items"], list):
        raise Undecodable("request: items is not a list")
    items = []
    for k, item in enumerate(r["items"]):
        iw = f"request item {k + 1}"
        exact(iw, item, ["label", "ciphertext"])
        raw = hex_bytes(f"{iw} ciphertext", item["ciphertext"], 64)
        alpha = point(f"{iw} α", raw[:32].hex(), identity_ok=True)  # aggregate decoding (crypto.md §4.2)
        beta = point(f"{iw} β", raw[32:].hex(), identity_ok=True)
        if not isinstance(item["label"], str):
            raise Undecodable(f"{iw}: label is not a string")
        items.append({"label": item["label"], "raw": raw, "alpha": alpha, "beta": beta})
    return {
        "ceremony": hex_bytes("request ceremony", r["ceremony"], 32),
        "joint_key": point("request joint_key", r["joint_key"]),
        "max_count": integer("request max_count", r["max_count"], U64),
        "items": items,
    }


def parse_partial(what, m):
    exact(what, m, ["ceremony", "trustee", "request", "shares", "signature"])
    if not isinstance(m["shares"], list):
        raise Undecodable(f"{what}: shares is not a list")
    shares = []
    for k, s in enumerate(m["shares"]):
        raw = hex_bytes(f"{what} share {k + 1}", s, 128)
        # enc(D) ‖ a₀ ‖ b₀ ‖ z₀ (crypto.md §4.4): D, a₀, b₀ canonical and not the identity.
        D = point(f"{what} share {k + 1} D", raw[:32].hex())
        a = point(f"{what} share {k + 1} a₀", raw[32:64].hex())
        b = point(f"{what} share {k + 1} b₀", raw[64:96].hex())
        z = r255.decode_scalar(raw[96:])
        if z is None:
            raise Undecodable(f"{what} share {k + 1}: z₀ is not a canonical scalar")
        shares.append({"raw": raw, "D": D, "a": a, "b": b, "z": z})
    return {
        "ceremony": hex_bytes(f"{what} ceremony", m["ceremony"], 32),
        "trustee": integer(f"{what} trustee", m["trustee"], U32),
        "request": hex_bytes(f"{what} request", m["request"], 32),
        "shares": shares,
        "signature": hex_bytes(f"{what} signature", m["signature"], 64),
    }


# ---------------------------------------------------------------------------------------------
# Proofs: Schnorr (crypto.md §6.2), DLEQ = disjunctive Chaum–Pedersen with L = 1 (crypto.md §6.3)
# ---------------------------------------------------------------------------------------------


def verify_schnorr(t, x_raw, X, proof):
    """crypto.md §6.2 on the caller's transcript t: None if the proof verifies, else the reason."""
    r_raw, z = proof[:32], r255.decode_scalar(proof[32:64])
    R = decode(r_raw)
    if len(proof) != 64 or R is None:
        return "R is not a canonical point"
    if r_raw == bytes(32):
        return "R is the identity"
    if z is None:
        return "z is not a canonical scalar"
    if x_raw == bytes(32):
        return "the statement X is the identity"
    t.domain_sep(b"tabella/v1/schnorr", 1)
    t.append_point_nonidentity(b"X", x_raw)
    t.append_point_nonidentity(b"R", r_raw)
    c = t.challenge_scalar(b"c")
    return None if eq(msm([(z, G), (-c, X)]), R) else "z·G ≠ R + c·X"


def verify_dleq(t, g2_raw, G2, X, Y, proof):
    """crypto.md §6.3 with L = 1, δ₀ = 0: log_G X = log_G2 Y. proof = enc(a₀) ‖ enc(b₀) ‖ enc(z₀)."""
    a_raw, b_raw = proof[:32], proof[32:64]
    a, b, z = decode(a_raw), decode(b_raw), r255.decode_scalar(proof[64:96])
    if len(proof) != 96 or a is None or b is None:
        return "a₀ or b₀ is not a canonical point"
    if a_raw == bytes(32) or b_raw == bytes(32):
        return "a₀ or b₀ is the identity"
    if z is None:
        return "z₀ is not a canonical scalar"
    t.domain_sep(b"tabella/v1/disjunctive-dleq", 1)
    t.append_message(b"G1", G_BYTES)
    t.append_message(b"G2", g2_raw)
    t.append_scalar(b"delta", 0)
    t.append_point_nonidentity(b"a", a_raw)
    t.append_point_nonidentity(b"b", b_raw)
    c = t.challenge_scalar(b"c")  # c₀ = c (L = 1)
    if not eq(msm([(z, G), (-c, X)]), a):
        return "z₀·G ≠ a₀ + c·X"
    if not eq(msm([(z, G2), (-c, Y)]), b):
        return "z₀·G2 ≠ b₀ + c·Y"
    return None


def ceremony_transcript(domain):
    t = Transcript(b"tabella")
    t.domain_sep(domain, PROTOCOL_VERSION)
    return t


def verify_signature(key, kind, body, signature):
    """§1.5 CEREMONY-SIG-1: a Schnorr proof of y_j on the trustee-signature transcript."""
    t = ceremony_transcript(b"tabella/v1/trustee-signature")
    t.append_message(b"kind", kind)
    t.append_message(b"body", body)
    return verify_schnorr(t, key[0], key[1], signature)


def verify_coefficient_proof(cid, i, t_, commitments, proof):
    """§2.2 step 2: proof of knowledge of a_i0 bound to the ceremony, the index, every A_ik."""
    if not commitments:
        return "there is no A_i0"
    t = ceremony_transcript(b"tabella/v1/dkg-coefficient")
    t.append_message(b"ceremony", cid)
    t.append_u64(b"dealer", i)
    t.append_u64(b"degree+1", t_)
    for raw, _ in commitments:
        t.append_message(b"A", raw)
    return verify_schnorr(t, commitments[0][0], commitments[0][1], proof)


def verify_ephemeral_proof(ad, e, proof):
    """§2.3 DKG-ENV-2: proof of knowledge of e = log_G E bound to the envelope AD."""
    t = ceremony_transcript(b"tabella/v1/share-ephemeral")
    t.append_message(b"envelope", ad)
    return verify_schnorr(t, e[0], e[1], proof)


def verify_reveal(ad, y, e, k, proof):
    """§2.4: a complaint's DLEQ proof log_G Y_j = log_E K on the share-reveal transcript."""
    t = ceremony_transcript(b"tabella/v1/share-reveal")
    t.append_message(b"envelope", ad)
    t.append_message(b"dleq-X", y[0])
    t.append_message(b"dleq-Y", k[0])
    return verify_dleq(t, e[0], e[1], y[1], k[1], proof)


def verify_decryption_share(context, item, x_raw, X, share):
    """§3.2 / crypto.md §4.4: DLEQ log_G X_j = log_α D_jk on the decryption transcript."""
    t = ceremony_transcript(b"tabella/v1/decryption")
    t.append_message(b"context", context)
    t.append_message(b"alpha", item["alpha"][0])
    t.append_message(b"beta", item["beta"][0])
    t.append_message(b"dleq-X", x_raw)
    t.append_message(b"dleq-Y", share["D"][0])
    proof = share["raw"][32:]
    return verify_dleq(t, item["alpha"][0], item["alpha"][1], X, share["D"][1], proof)


# ---------------------------------------------------------------------------------------------
# Envelopes (§2.3) and the Feldman image (§2.4)
# ---------------------------------------------------------------------------------------------


def envelope_key(k_raw, ad):
    """HKDF-SHA-512(salt = "tabella/v1/share-envelope", IKM = enc(K), info = envelope AD), 32 bytes."""
    return hkdf("sha512", b"tabella/v1/share-envelope", k_raw, ad, 32)


def open_envelope(key, ad, sealed):
    """ChaCha20-Poly1305 with a zero nonce and the envelope AD; the share, or None if it does not open."""
    plain = aead_open(key, bytes(12), ad, sealed)
    return None if plain is None else r255.decode_scalar(plain)


def feldman_image(commitments, j):
    """Σ_k j^k·A_ik = f_i(j)·G for an honest dealer."""
    return msm([(pow(j, k, L), A) for k, (_, A) in enumerate(commitments)])


# ---------------------------------------------------------------------------------------------
# Checks and reports
# ---------------------------------------------------------------------------------------------


class Report:
    def __init__(self, name):
        self.name = name
        self.checks = []  # (key, description, failure or None)

    def add(self, key, description, failure=None):
        self.checks.append((key, description, failure))
        return failure

    def failed(self):
        return {key for key, _, failure in self.checks if failure is not None}


def same(what, computed, stored):
    return None if computed == stored else f"{what}: computed {computed}, stored {stored}"


def name_problem(name):
    """§1.5: 1 to 64 bytes of UTF-8, no control character (char::is_control = category Cc)."""
    if not 1 <= len(name.encode()) <= MAX_NAME_LEN:
        return f"{len(name.encode())} bytes, not 1 to {MAX_NAME_LEN}"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "a control character"
    return None


class Ceremony:
    """The parsed ceremony: parameters, keys, ceremony id."""

    def __init__(self, params):
        self.params = params
        self.t = params["t"]
        self.trustees = params["trustees"]
        self.n = len(self.trustees)
        self.Y = {k + 1: a["key"] for k, a in enumerate(self.trustees)}
        self.names = {k + 1: a["name"] for k, a in enumerate(self.trustees)}
        self.cid = ceremony_id(params["election_id"], self.t, self.trustees)

    def who(self, i):
        return f"{i} ({self.names[i]})" if i in self.names else str(i)


def check_params(cer, report):
    """§2.1 CeremonyParams::validate, first failure; every announcement's signature on its own line."""
    p, t, n = cer.params, cer.t, cer.n
    failure = None
    if t == 0 or t > n or n > MAX_TRUSTEES:
        failure = f"BadThreshold (t = {t}, n = {n})"
    for k, a in enumerate(cer.trustees, 1):
        sig = verify_signature(a["key"], b"announcement", announcement_body(a["election_id"], a["name"], a["key"][0]), a["signature"])
        report.add(f"announcement {k}", f"announcement {cer.who(k)}: signature by Y_{k} (§1.5 CEREMONY-SIG-2)", sig)
        if failure:
            continue
        if a["election_id"] != p["election_id"]:
            failure = f"WrongElection (announcement {k})"
        elif name_problem(a["name"]):
            failure = f"BadName (announcement {k}: {name_problem(a['name'])})"
        elif sig:
            failure = f"BadAnnouncement (announcement {k})"
        else:
            for e in range(1, k):
                if cer.names[e] == a["name"]:
                    failure = f"DuplicateTrustee {{ first: {e}, second: {k}, what: name }}"
                elif cer.Y[e][0] == a["key"][0]:
                    failure = f"DuplicateTrustee {{ first: {e}, second: {k}, what: identity key }}"
                if failure:
                    break
    report.add("params", f"parameters: {t} of {n}, election id, names, no duplicates (§2.1)", failure)


def dealer_checks(cer, d):
    """§2.2 DealerMessage::validate: [(key, description, reason or None)] in the table's order.

    Every row is evaluated (so that a change shows in each check it breaks); the message's verdict
    is its first failing row. A row that cannot be evaluated after an earlier failure is left out.
    """
    i, n, t = d["dealer"], cer.n, cer.t
    rows = []

    def row(key, description, reason):
        rows.append((key, description, reason))

    row("ceremony", "ceremony id", None if d["ceremony"] == cer.cid else f"it belongs to another ceremony ({d['ceremony'].hex()})")
    if not 1 <= i <= n:
        row("index", "index", f"trustee index {i} is outside 1..={n}")
        return rows
    row("signature", f"signature by Y_{i} (§1.5)", None if verify_signature(cer.Y[i], b"dealer", dealer_body(d), d["signature"]) is None else "its signature does not verify")
    k = len(d["commitments"])
    row("commitments", f"exactly t = {t} commitments", None if k == t else f"it has {k} coefficient commitments; the threshold {t} needs exactly {t}")
    pok = verify_coefficient_proof(cer.cid, i, t, d["commitments"], d["proof"])
    row("coefficient proof", "proof of knowledge of a_i0 (§2.2 step 2, dkg-coefficient)", None if pok is None else "its proof of knowledge of the secret coefficient does not verify")
    shares = d["shares"]
    row("shares", f"exactly n = {n} envelopes, in trustee order, {SEALED_LEN}-byte sealed shares", envelope_layout_problem(shares, n))
    for s in shares:
        r = s["recipient"]
        if r not in cer.Y:
            continue
        ad = envelope_ad(cer.cid, i, r, cer.Y[r][0], s["ephemeral"][0])
        bad = verify_ephemeral_proof(ad, s["ephemeral"], s["ephemeral_proof"])
        row(f"ephemeral {r}", f"envelope for {cer.who(r)}: proof of knowledge of log_G E (§2.3 DKG-ENV-2)",
            None if bad is None else f"the proof of knowledge of the ephemeral key of the share for trustee {r} does not verify")
    return rows


def envelope_layout_problem(shares, n):
    if len(shares) != n:
        return f"it has {len(shares)} encrypted shares for {n} trustees"
    for p, s in enumerate(shares, 1):
        if s["recipient"] != p:
            return f"its shares are not in trustee order (position {p} is for trustee {s['recipient']})"
    for s in shares:
        if len(s["sealed"]) != SEALED_LEN:
            return f"the share for trustee {s['recipient']} has {len(s['sealed'])} bytes, not {SEALED_LEN}"
    return None


def check_message_checks(cer, c):
    """§2.4 CheckMessage::validate: the ceremony, the index, the signature (same reasons as §2.2)."""
    j, n = c["trustee"], cer.n
    rows = [("ceremony", "ceremony id", None if c["ceremony"] == cer.cid else f"it belongs to another ceremony ({c['ceremony'].hex()})")]
    if not 1 <= j <= n:
        rows.append(("index", "index", f"trustee index {j} is outside 1..={n}"))
        return rows
    bad = verify_signature(cer.Y[j], b"check", check_body(c), c["signature"])
    rows.append(("signature", f"signature by Y_{j} (§1.5)", None if bad is None else "its signature does not verify"))
    return rows


def first_failure(rows, waive_signatures):
    for key, _, reason in rows:
        if reason is not None and not (waive_signatures and key == "signature"):
            return reason
    return None


# ---------------------------------------------------------------------------------------------
# Outcome (§2.5 DKG-OUTCOME-1)
# ---------------------------------------------------------------------------------------------


def judge_complaint(cer, dealer, j, complaint):
    """The reveal of one complaint: DLEQ failure, AEAD key, opened share, Feldman image, verdict."""
    s = dealer["shares"][j - 1]
    ad = envelope_ad(cer.cid, dealer["dealer"], j, cer.Y[j][0], s["ephemeral"][0])
    dleq = verify_reveal(ad, cer.Y[j], s["ephemeral"], complaint["shared"], complaint["proof"])
    key = envelope_key(complaint["shared"][0], ad)
    opened = open_envelope(key, ad, s["sealed"])
    image = feldman_image(dealer["commitments"], j)
    if dleq is not None:
        verdict = "invalid-complaint"
    elif opened is None:
        verdict = "bad-share: does-not-decrypt"
    elif not eq(r255.mul(opened, G), image):
        verdict = "bad-share: not-on-commitments"
    else:
        verdict = "false-complaint"
    return {"dleq": dleq, "key": key, "opened": opened, "image": image, "verdict": verdict}


def finalize(cer, dealers, checks, dealer_verdicts, check_verdicts):
    """§2.5: faults (first per trustee), QUAL, C_k, PK, X_j; also the judged complaints.

    dealers/checks: author → parsed message (§2.4 grouping; the vectors have one per author).
    dealer_verdicts/check_verdicts: author → validate's first failure or None.
    """
    n, t = cer.n, cer.t
    for m in list(dealers.values()) + list(checks.values()):
        if m["ceremony"] != cer.cid:
            return {"error": "WrongCeremony"}
    faults = {}

    def fault(who, f):
        faults.setdefault(who, f)

    valid = set()
    for i in range(1, n + 1):
        if i not in dealers:
            fault(i, {"kind": "did-not-deal"})
        elif dealer_verdicts[i] is not None:
            fault(i, {"kind": "invalid-dealer-message", "reason": dealer_verdicts[i]})
        else:
            valid.add(i)
    judged = []  # (complainer, position, dealer, judgement or None, verdict)
    for j in range(1, n + 1):
        if j not in checks:
            fault(j, {"kind": "did-not-check"})
            continue
        c = checks[j]
        if check_verdicts[j] is not None:
            fault(j, {"kind": "invalid-check-message", "reason": check_verdicts[j]})
            for p, k in enumerate(c["complaints"]):
                judged.append((j, p, k["dealer"], None, f"not judged: check message {j} is invalid"))
            continue
        for i in sorted(valid):
            entry = next((dg for di, dg in c["seen"] if di == i), None)
            if entry != dealers[i]["digest"]:
                fault(j, {"kind": "confirmed-other-message", "dealer": i})
        for p, k in enumerate(c["complaints"]):
            i = k["dealer"]
            if i not in valid:
                judged.append((j, p, i, None, f"moot: dealer {i} is not valid"))
                continue
            jd = judge_complaint(cer, dealers[i], j, k)
            v = jd["verdict"]
            if v == "invalid-complaint":
                fault(j, {"kind": "invalid-complaint", "dealer": i})
            elif v.startswith("bad-share"):
                fault(i, {"kind": "bad-share", "recipient": j, "problem": v.split(": ")[1]})
            else:
                fault(j, {"kind": "false-complaint", "dealer": i})
            judged.append((j, p, i, jd, v))
    qual = [k for k in range(1, n + 1) if k not in faults]
    out = {"faults": faults, "qualified": qual, "valid": valid, "judged": judged}
    if len(qual) < t:
        out["error"] = f"TooFewQualified {{ qualified: {qual}, threshold: {t} }}"
        return out
    C = [msm([(1, dealers[i]["commitments"][k][1]) for i in qual]) for k in range(t)]
    out["C"] = C
    out["PK"] = C[0]
    out["X"] = {j: msm([(pow(j, k, L), Ck) for k, Ck in enumerate(C)]) for j in qual}
    if r255.is_identity(C[0]) or any(r255.is_identity(X) for X in out["X"].values()):
        out["error"] = "Encoding(IdentityPoint)"
    return out


# ---------------------------------------------------------------------------------------------
# Tally (§3)
# ---------------------------------------------------------------------------------------------


def request_problem(cer, outcome_pk, r):
    """§3.1 TallyRequest::validate, first failure."""
    if r["ceremony"] != cer.cid:
        return "WrongCeremony"
    if outcome_pk is None or not eq(r["joint_key"][1], outcome_pk):
        return "its joint key is not the one the key ceremony produced"
    if not r["items"]:
        return "it has nothing to decrypt"
    if r["max_count"] > MAX_COUNT:
        return f"its largest total {r['max_count']} exceeds {MAX_COUNT}"
    labels = set()
    for k, item in enumerate(r["items"], 1):
        label = item["label"]
        if not label or any(unicodedata.category(ch) == "Cc" for ch in label):
            return f"item {k} has an empty or unprintable label"
        if label in labels:
            return f'the label "{label}" appears twice'
        labels.add(label)
        if item["alpha"][0] == bytes(32):
            return f'the aggregate "{label}" has α = identity (no ballots were added); its total needs no decryption'
    return None


def describe_fault(f):
    return json.dumps(f, separators=(",", ":"))


def partial_checks(cer, fin, request, rdigest, p):
    """§3.3 PartialDecryptionMessage::validate: rows in the table's order, each evaluated."""
    j = p["trustee"]
    rows = [("ceremony", "ceremony id", None if p["ceremony"] == cer.cid else f"it belongs to another ceremony ({p['ceremony'].hex()})")]
    if j in fin.get("X", {}):
        rows.append(("qualified", "author in QUAL", None))
    elif j in fin["faults"]:
        rows.append(("qualified", "author in QUAL", f"its author was disqualified in the key ceremony: {describe_fault(fin['faults'][j])}"))
        return rows
    else:
        rows.append(("qualified", "author in QUAL", f"trustee {j} is not part of this ceremony"))
        return rows
    rows.append(("request", "request digest", None if p["request"] == rdigest else f"it decrypts another tally request ({p['request'].hex()}, not {rdigest.hex()})"))
    bad = verify_signature(cer.Y[j], b"partial-decryption", partial_body(p), p["signature"])
    rows.append(("signature", f"signature by Y_{j} (§1.5)", None if bad is None else "its signature does not verify"))
    m, k = len(request["items"]), len(p["shares"])
    rows.append(("count", "one share per item", None if k == m else f"it has {k} shares for {m} aggregates"))
    X = fin["X"][j]
    x_raw = encode(X)
    for idx, (item, share) in enumerate(zip(request["items"], p["shares"])):
        ctx = proof_context(cer.cid, j, p["request"], idx)
        bad = verify_decryption_share(ctx, item, x_raw, X, share)
        rows.append((f"proof {idx}", f"DLEQ proof of D for \"{item['label']}\" against X_{j} (§3.2)",
                     None if bad is None else f"its partial decryption of \"{item['label']}\" does not match its verification key (the proof fails)"))
    return rows


def combine(cer, fin, request, partials, verdicts):
    """§3.4: accepted/rejected in the order given, absent, the t lowest, λ_j, M_k, bounded log."""
    accepted, rejected = {}, []
    for p, verdict in zip(partials, verdicts):
        j = p["trustee"]
        if j in accepted:
            continue
        if verdict is None:
            accepted[j] = p
        else:
            rejected.append({"trustee": j, "reason": verdict})
    rejected_ids = {r["trustee"] for r in rejected}
    absent = [j for j in fin["qualified"] if j not in accepted and j not in rejected_ids]
    if len(accepted) < cer.t:
        return {"error": f"NotEnoughShares {{ valid: {len(accepted)}, needed: {cer.t}, absent: {absent} }}"}
    order = sorted(accepted)
    S, spare = order[: cer.t], order[cer.t :]
    lam = {}
    for j in S:
        num, den = 1, 1
        for m in S:
            if m != j:
                num, den = num * m % L, den * (m - j) % L
        lam[j] = num * pow(den, -1, L) % L
    totals = []
    for k, item in enumerate(request["items"]):
        M = msm([(1, item["beta"][1])] + [(-lam[j], accepted[j]["shares"][k]["D"][1]) for j in S])
        m = discrete_log(M, request["max_count"])
        if m is None:
            return {"error": f"TotalOutOfRange {{ label: {item['label']}, max: {request['max_count']} }}"}
        totals.append([item["label"], m])
    return {"totals": totals, "combined": S, "spare": spare, "rejected": rejected, "absent": absent}


# ---------------------------------------------------------------------------------------------
# One vector file
# ---------------------------------------------------------------------------------------------


def verify_file(doc, waive_signatures=False):
    """Verifies one vector file; returns its Report.

    waive_signatures (self-test only): signature checks are still run and reported, but a message
    whose only fault is its signature counts as valid in §2.5 and §3.3, so that a changed proof
    or key can be followed past the signature (which covers every byte) to the rule it breaks.
    """
    report = Report(doc.get("description", "?").split(" (")[0])
    try:
        _verify_file(doc, report, waive_signatures)
    except Undecodable as e:
        report.add("decoding", "strict decoding of every message (§1.4)", str(e))
    return report


def _verify_file(doc, report, waive):
    # Parameters and ceremony id (§2.1, §1.4).
    cer = Ceremony(parse_params(doc["params"]))
    check_params(cer, report)
    stored_cid = hex_bytes("ceremony_id", doc["ceremony_id"], 32)
    report.add("ceremony-id", f"ceremony id {cer.cid.hex()[:16]}… = SHA-256 of §1.4's bytes", same("ceremony id", cer.cid.hex(), stored_cid.hex()))

    # Dealer messages (§2.2, §2.3).
    dealers, dealer_verdicts = {}, {}
    undecodable = []
    for k, m in enumerate(doc["dealers"], 1):
        try:
            d = parse_dealer(f"dealer message {k}", m)
        except Undecodable as e:
            report.add(f"dealer #{k} decoding", f"dealer message #{k}: strict decoding (§1.4)", str(e))
            undecodable.append(f"dealer message #{k}")
            continue
        i = d["dealer"]
        rows = dealer_checks(cer, d)
        for key, description, reason in rows:
            report.add(f"dealer {i} {key}", f"dealer {cer.who(i)}: {description}", reason)
        d["digest"] = message_digest(b"dealer", dealer_body(d), d["signature"])
        if i in dealers and dealers[i]["digest"] != d["digest"]:
            undecodable.append(f"two different dealer messages from trustee {i} (Conflicting, §2.5 step 1)")
        dealers[i] = d
        dealer_verdicts[i] = first_failure(rows, waive)
    stored = [hex_bytes("dealer_digests", h, 32).hex() for h in doc["dealer_digests"]]
    computed = [dealers[i]["digest"].hex() for i in sorted(dealers)]
    report.add("dealer-digests", "dealer_digests = the §1.4 message digests of the dealer messages", same("digests", computed, stored))

    # Check messages (§2.4).
    checks, check_verdicts = {}, {}
    for k, m in enumerate(doc["checks"], 1):
        try:
            c = parse_check(f"check message {k}", m)
        except Undecodable as e:
            report.add(f"check #{k} decoding", f"check message #{k}: strict decoding (§1.4)", str(e))
            undecodable.append(f"check message #{k}")
            continue
        j = c["trustee"]
        rows = check_message_checks(cer, c)
        for key, description, reason in rows:
            report.add(f"check {j} {key}", f"check {cer.who(j)}: {description}", reason)
        # What an honest checker lists (§2.4 step 2): every dealer of this ceremony, ascending.
        want = [(i, dealers[i]["digest"]) for i in sorted(dealers) if dealers[i]["ceremony"] == cer.cid and 1 <= i <= cer.n]
        report.add(f"check {j} seen", f"check {cer.who(j)}: `seen` lists every dealer message's digest (§2.4 step 2)",
                   None if c["seen"] == want else "its seen list differs from the dealer messages' digests")
        c["digest"] = message_digest(b"check", check_body(c), c["signature"])
        if j in checks and checks[j]["digest"] != c["digest"]:
            undecodable.append(f"two different check messages from trustee {j} (Conflicting, §2.5 step 1)")
        checks[j] = c
        check_verdicts[j] = first_failure(rows, waive)

    # Outcome (§2.5).
    if undecodable:
        fin = {"error": f"not computed: {', '.join(undecodable)} (§2.4, §8.7: the ceremony stops)"}
    else:
        fin = finalize(cer, dealers, checks, dealer_verdicts, check_verdicts)
    if "complaints" in doc:
        verify_complaint_records(cer, doc["complaints"], dealers, checks, fin, report)
    verify_outcome(cer, doc["outcome"], dealers, checks, fin, report)

    # Tally (§3).
    if "request" in doc:
        verify_tally(cer, doc, fin, report, waive)


def verify_complaint_records(cer, records, dealers, checks, fin, report):
    """The complaint vector's per-complaint records (§2.8) against the check messages and §2.5."""
    listed = [(j, k["dealer"], k["shared"][0].hex()) for j in sorted(checks) for k in checks[j]["complaints"]]
    stored = [(r.get("complainer"), r.get("dealer"), r.get("shared")) for r in records]
    report.add("complaints", f"{len(records)} complaint records = the check messages' complaints, in finalize's order (§2.8)",
               same("complaints", listed, stored))
    judged = {(j, i): (jd, v) for j, _, i, jd, v in fin.get("judged", [])}
    for p, r in enumerate(records, 1):
        try:
            exact(f"complaint record {p}", r, ["complainer", "dealer", "shared", "aead_key", "opened", "expected_image", "verdict"])
        except Undecodable as e:
            report.add(f"complaint {p} record", f"complaint record {p}: fields", str(e))
            continue
        j, i = r["complainer"], r["dealer"]
        tag = f"complaint {p} ({cer.who(j)} against {cer.who(i)})"
        if (j, i) not in judged:
            report.add(f"complaint {p} verdict", f"{tag}: judged by §2.5", "no such complaint was judged" + (f" ({fin['error']})" if "error" in fin else ""))
            continue
        jd, verdict = judged[(j, i)]
        if jd is None and i in dealers and len(dealers[i]["shares"]) >= j:
            # Not judged (an invalid check message, or a moot complaint): the reveal is still checked.
            c = next(k for k in checks[j]["complaints"] if k["dealer"] == i)
            jd = judge_complaint(cer, dealers[i], j, c)
        if jd is not None:
            report.add(f"complaint {p} dleq", f"{tag}: DLEQ proof log_G Y_{j} = log_E K (§2.4, share-reveal)", jd["dleq"])
            report.add(f"complaint {p} key", f"{tag}: aead_key = HKDF-SHA-512(enc(K), envelope AD) (§2.3)", same("key", jd["key"].hex(), r["aead_key"]))
            opened = None if jd["opened"] is None else r255.scalar_bytes(jd["opened"]).hex()
            report.add(f"complaint {p} opened", f"{tag}: envelope opened with K → {'no share' if opened is None else 'share ' + opened[:16] + '…'} (ChaCha20-Poly1305)",
                       same("opened share", opened, r["opened"]))
            report.add(f"complaint {p} image", f"{tag}: expected_image = Σ_k {j}^k·A_{i}k (Feldman)", same("image", encode(jd["image"]).hex(), r["expected_image"]))
        report.add(f"complaint {p} verdict", f"{tag}: verdict `{verdict}` (§2.5 step 2.2.3)", same("verdict", verdict, r["verdict"]))


def verify_outcome(cer, stored, dealers, checks, fin, report):
    try:
        exact("outcome", stored, ["ceremony", "threshold", "qualified", "disqualified", "joint_key", "verification_keys", "dealer_digests", "check_digests"])
    except Undecodable as e:
        report.add("outcome fields", "outcome: fields", str(e))
        return
    if "error" in fin and "faults" not in fin:
        for key in ("outcome faults", "outcome key", "outcome verification keys"):
            report.add(key, f"{key}: recomputed by §2.5", fin["error"])
    else:
        disq = [{"trustee": k, "fault": fin["faults"][k]} for k in sorted(fin["faults"])]
        computed = (cer.cid.hex(), cer.t, fin["qualified"], disq)
        got = (stored["ceremony"], stored["threshold"], stored["qualified"], stored["disqualified"])
        quals = ", ".join(map(str, fin["qualified"]))
        report.add("outcome faults", f"outcome: QUAL = {{{quals}}}, {len(disq)} disqualified, first fault each (§2.5)",
                   fin.get("error") if fin.get("error", "").startswith("TooFew") else same("outcome", computed, got))
        if "PK" in fin:
            pk = encode(fin["PK"]).hex()
            report.add("outcome key", f"outcome: joint key PK = Σ_QUAL A_i0 = {pk[:16]}…", same("joint key", pk, stored["joint_key"]))
            vks = [{"trustee": j, "key": encode(X).hex()} for j, X in sorted(fin["X"].items())]
            report.add("outcome verification keys", f"outcome: {len(vks)} verification keys X_j = Σ_k j^k·C_k", same("verification keys", vks, stored["verification_keys"]))
        else:
            report.add("outcome key", "outcome: joint key", fin.get("error"))
            report.add("outcome verification keys", "outcome: verification keys", fin.get("error"))
    dd = [{"trustee": i, "digest": dealers[i]["digest"].hex()} for i in sorted(dealers) if 1 <= i <= cer.n]
    cd = [{"trustee": j, "digest": checks[j]["digest"].hex()} for j in sorted(checks) if 1 <= j <= cer.n]
    report.add("outcome digests", "outcome: dealer_digests and check_digests (§1.4 message digests)",
               same("digests", (dd, cd), (stored["dealer_digests"], stored["check_digests"])))


def verify_tally(cer, doc, fin, report, waive):
    request = parse_request(doc["request"])
    pk = fin.get("PK")
    report.add("request", f"tally request: {len(request['items'])} items, max_count {request['max_count']} (§3.1)",
               request_problem(cer, pk, request) if "error" not in fin else f"no outcome ({fin['error']})")
    rdigest = hashlib.sha256(request_body(request)).digest()
    report.add("request digest", f"request digest {rdigest.hex()[:16]}… = SHA-256 of the request body (§1.4)",
               same("request digest", rdigest.hex(), doc["request_digest"]))
    partials, verdicts = [], []
    for k, m in enumerate(doc["partials"], 1):
        p = parse_partial(f"partial {k}", m)
        if "X" not in fin:
            report.add(f"partial {p['trustee']}", f"partial decryption {cer.who(p['trustee'])}", f"no outcome ({fin.get('error')})")
            continue
        rows = partial_checks(cer, fin, request, rdigest, p)
        for key, description, reason in rows:
            report.add(f"partial {p['trustee']} {key}", f"partial {cer.who(p['trustee'])}: {description}", reason)
        partials.append(p)
        verdicts.append(first_failure(rows, waive))
    stored = doc["tally"]
    exp = doc["expected_totals"]
    try:
        exact("tally", stored, ["request", "totals", "combined", "spare", "rejected", "absent"])
    except Undecodable as e:
        report.add("tally fields", "tally: fields (TallyOutcome, §3.4)", str(e))
    if "X" not in fin:
        result = {"error": f"no outcome ({fin.get('error')})"}
    else:
        result = combine(cer, fin, request, partials, verdicts)
    if "error" in result:
        report.add("tally", "tally: combination (§3.4)", result["error"])
        report.add("totals", "tally: totals", result["error"])
        return
    got = {"request": rdigest.hex(), "combined": result["combined"], "spare": result["spare"], "rejected": result["rejected"], "absent": result["absent"]}
    want = {k: stored.get(k) for k in got}
    report.add("tally", f"tally: combined {result['combined']}, spare {result['spare']}, absent {result['absent']}, rejected {[r['trustee'] for r in result['rejected']]} (§3.4)",
               same("tally", got, want))
    values = [m for _, m in result["totals"]]
    report.add("totals", f"tally: totals {values} = β_k − Σ λ_j·D_jk, bounded discrete log (§3.4)",
               same("totals", result["totals"], stored.get("totals")) or same("expected totals", values, exp))


# ---------------------------------------------------------------------------------------------
# Known-answer tests (RFC 8439, RFC 5869) and the self-test
# ---------------------------------------------------------------------------------------------

SUNSCREEN = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."


def known_answer_tests():
    results = []

    def check(name, fn):
        try:
            failure = fn()
        except Exception as e:  # a crash is a failure, with its reason
            failure = f"{type(e).__name__}: {e}"
        results.append((name, failure))

    def block():  # RFC 8439 §2.3.2
        got = chacha20_block(bytes(range(32)), 1, bytes.fromhex("000000090000004a00000000")).hex()
        want = ("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
                "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e")
        return None if got == want else got

    def stream():  # RFC 8439 §2.4.2
        got = chacha20(bytes(range(32)), 1, bytes.fromhex("000000000000004a00000000"), SUNSCREEN).hex()
        want = ("6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
                "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
                "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
                "5af90bbf74a35be6b40b8eedf2785e42874d")
        return None if got == want else got

    def mac():  # RFC 8439 §2.5.2
        key = bytes.fromhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
        got = poly1305(key, b"Cryptographic Forum Research Group").hex()
        return None if got == "a8061dc1305136c6c22b8baf0c0127a9" else got

    def keygen():  # RFC 8439 §2.6.2
        got = chacha20_block(bytes(range(0x80, 0xA0)), 0, bytes.fromhex("000000000001020304050607"))[:32].hex()
        return None if got == "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646" else got

    def aead():  # RFC 8439 §2.8.2, both ways, and a changed byte, tag or AAD is refused
        key, nonce = bytes(range(0x80, 0xA0)), bytes.fromhex("070000004041424344454647")
        aad = bytes.fromhex("50515253c0c1c2c3c4c5c6c7")
        want = ("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
                "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
                "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
                "3ff4def08e4b7a9de576d26586cec64b6116" "1ae10b594f09e26a7e902ecbd0600691")
        sealed = aead_seal(key, nonce, aad, SUNSCREEN)
        if sealed.hex() != want:
            return f"seal: {sealed.hex()}"
        if aead_open(key, nonce, aad, sealed) != SUNSCREEN:
            return "open: not the plaintext"
        for k in (0, len(sealed) - 1):
            bad = bytearray(sealed)
            bad[k] ^= 1
            if aead_open(key, nonce, aad, bytes(bad)) is not None:
                return f"open accepted a flipped byte {k}"
        if aead_open(key, nonce, aad[:-1] + b"\0", sealed) is not None:
            return "open accepted another AAD"
        return None

    def hkdf_256():  # RFC 5869 A.1 (test case 1, SHA-256)
        got = hkdf("sha256", bytes(range(13)), b"\x0b" * 22, bytes(range(0xF0, 0xFA)), 42).hex()
        want = "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        return None if got == want else got

    def hkdf_512():  # RFC 5869's definition with SHA-512, from hmac alone: T(1) = HMAC(PRK, info ‖ 1)
        salt, ikm, info = b"tabella/v1/share-envelope", bytes(32), b"info"
        prk = hmac.new(salt, ikm, hashlib.sha512).digest()
        t1 = hmac.new(prk, info + b"\x01", hashlib.sha512).digest()
        t2 = hmac.new(prk, t1 + info + b"\x02", hashlib.sha512).digest()
        if hkdf("sha512", salt, ikm, info, 32) != t1[:32] or hkdf("sha512", salt, ikm, info, 100) != (t1 + t2)[:100]:
            return "HKDF-SHA-512 disagrees with its definition"
        return None

    check("ChaCha20 block, RFC 8439 §2.3.2", block)
    check("ChaCha20 encryption, RFC 8439 §2.4.2", stream)
    check("Poly1305, RFC 8439 §2.5.2", mac)
    check("Poly1305 key generation, RFC 8439 §2.6.2", keygen)
    check("ChaCha20-Poly1305 AEAD, RFC 8439 §2.8.2 (seal, open, tampering refused)", aead)
    check("HKDF-SHA-256, RFC 5869 test case 1", hkdf_256)
    check("HKDF-SHA-512, two blocks against HMAC-SHA-512", hkdf_512)
    return results


def flip_hex(text, offset, mask=0x01):
    b = bytearray(bytes.fromhex(text))
    b[offset] ^= mask
    return b.hex()


def add_g_hex(text):
    """The encoding of P + G: another valid point."""
    return encode(r255.add(decode(bytes.fromhex(text)), G)).hex()


ALL_MESSAGES = "every message's ceremony check"


def mutations(doc):
    """(description, change(doc), waive_signatures, expected failing check keys)."""
    out = []
    n = len(doc["params"]["trustees"])
    complaint = "complaints" in doc

    def m(description, change, expected, waive=False):
        out.append((description, change, waive, set(expected)))

    every_check_seen = [f"check {j} seen" for j in range(1, n + 1)]
    outcome = ["outcome faults", "outcome key", "outcome verification keys"]
    digests = ["dealer-digests", "outcome digests"]
    tally = ["request", "partial 1 proof 0", "partial 1 proof 1", "partial 1 proof 2",
             "partial 3 proof 0", "partial 3 proof 1", "partial 3 proof 2", "tally", "totals"] if not complaint else []

    if complaint:
        # Dealer 5 (Euler), whose envelopes nobody complains about: a flipped bit of a sealed share.
        def sealed(d):
            s = d["dealers"][4]["shares"][1]
            s["sealed"] = flip_hex(s["sealed"], 3)
        m("dealer 5: a flipped bit in the sealed share for trustee 2 → its signature fails, Euler is disqualified",
          sealed, ["dealer 5 signature"] + digests + every_check_seen + outcome)

        def eph(d):
            s = d["dealers"][1]["shares"][2]
            s["ephemeral_proof"] = flip_hex(s["ephemeral_proof"], 32)
        m("dealer 2: a flipped byte in z of the ephemeral proof for trustee 3 → that proof and the message fail",
          eph, ["dealer 2 signature", "dealer 2 ephemeral 3"] + digests + every_check_seen
          + ["complaint 3 verdict", "outcome faults"])
        m("  … the same with signatures waived: Boole is InvalidDealerMessage, Church's complaint against it is moot",
          eph, ["dealer 2 signature", "dealer 2 ephemeral 3"] + digests + every_check_seen
          + ["complaint 3 verdict", "outcome faults"], waive=True)

        def swap(d):
            c = d["dealers"][0]["commitments"]
            c[0], c[1] = c[1], c[0]
        m("dealer 1: its two commitments swapped → the signature, the coefficient proof, the Feldman image and the key fail",
          swap, ["dealer 1 signature", "dealer 1 coefficient proof", "complaint 2 image", "complaint 2 verdict"]
          + digests + every_check_seen + outcome)
        m("  … with signatures waived: still invalid (the proof of knowledge of a_10)",
          swap, ["dealer 1 signature", "dealer 1 coefficient proof", "complaint 2 image", "complaint 2 verdict"]
          + digests + every_check_seen + outcome, waive=True)

        def k_plus_g(d):
            d["checks"][0]["complaints"][0]["shared"] = add_g_hex(d["checks"][0]["complaints"][0]["shared"])
        m("check 1: complaint K replaced by K + G → signature, DLEQ, AEAD key fail; Ada's complaint is not judged",
          k_plus_g, ["check 1 signature", "complaints", "complaint 1 dleq", "complaint 1 key", "complaint 1 verdict",
                     "outcome faults", "outcome key", "outcome verification keys", "outcome digests"])
        m("  … with signatures waived: InvalidComplaint against Ada, Dijkstra keeps its place",
          k_plus_g, ["check 1 signature", "complaints", "complaint 1 dleq", "complaint 1 key", "complaint 1 verdict",
                     "outcome faults", "outcome key", "outcome verification keys", "outcome digests"], waive=True)

        def k_flip(d):
            c = d["checks"][0]["complaints"][0]
            c["shared"] = flip_hex(c["shared"], 0)
        m("check 1: a flipped bit in K makes it non-canonical → the message does not decode, the ceremony stops (§8.7)",
          k_flip, ["check #1 decoding", "complaints", "complaint 1 verdict", "complaint 2 verdict", "complaint 3 verdict"]
          + outcome + ["outcome digests"])

        def dleq(d):
            c = d["checks"][2]["complaints"][0]
            c["proof"] = flip_hex(c["proof"], 64)
        m("check 3: a flipped byte in z₀ of the DLEQ proof against Ada → signature and proof fail, Church's complaints are not judged",
          dleq, ["check 3 signature", "complaint 2 dleq", "complaint 2 verdict", "complaint 3 verdict"] + outcome + ["outcome digests"])
        m("  … with signatures waived: InvalidComplaint instead of FalseComplaint; Boole is still disqualified",
          dleq, ["check 3 signature", "complaint 2 dleq", "complaint 2 verdict", "outcome faults", "outcome digests"], waive=True)

        def sig(d):
            d["checks"][4]["signature"] = flip_hex(d["checks"][4]["signature"], 40)
        m("check 5: a flipped byte in the signature's z → only that signature; Euler is InvalidCheckMessage",
          sig, ["check 5 signature"] + outcome + ["outcome digests"])

        def aead_key(d):
            d["complaints"][1]["aead_key"] = flip_hex(d["complaints"][1]["aead_key"], 0)
        m("complaint record 2: a changed aead_key → only that record", aead_key, ["complaint 2 key"])

        def opened(d):
            d["complaints"][0]["opened"] = "00" * 32
        m("complaint record 1: a share where the envelope does not open → only that record", opened, ["complaint 1 opened"])

        def verdict(d):
            d["complaints"][2]["verdict"] = "false-complaint"
        m("complaint record 3: verdict changed to false-complaint → only that record", verdict, ["complaint 3 verdict"])

        def repaired(d):
            # Dijkstra's envelope for Ada "has one ciphertext bit flipped" (§2.8): find the bit whose
            # flip makes it open with Ada's revealed K, flip it back, and put the repaired message's
            # digest into every `seen` list (their signatures are waived), so that only the verdict moves.
            cer = Ceremony(parse_params(d["params"]))
            msg = d["dealers"][3]
            s = msg["shares"][0]
            e_raw = bytes.fromhex(s["ephemeral"])
            ad = envelope_ad(cer.cid, 4, 1, cer.Y[1][0], e_raw)
            key = envelope_key(bytes.fromhex(d["checks"][0]["complaints"][0]["shared"]), ad)
            for bit in range(8 * SEALED_LEN):
                fixed = flip_hex(s["sealed"], bit // 8, 1 << (bit % 8))
                if open_envelope(key, ad, bytes.fromhex(fixed)) is not None:
                    s["sealed"] = fixed
                    break
            parsed = parse_dealer("dealer 4", msg)
            digest = message_digest(b"dealer", dealer_body(parsed), parsed["signature"]).hex()
            for c in d["checks"]:
                for entry in c["seen"]:
                    if entry["dealer"] == 4:
                        entry["digest"] = digest
        m("dealer 4: the flipped bit of the envelope for Ada flipped back, `seen` lists updated (waived signatures) → "
          "it opens and is on the commitments: Ada's complaint is false, Dijkstra qualifies",
          repaired, ["dealer 4 signature", "dealer-digests", "complaint 1 opened", "complaint 1 verdict"]
          + [f"check {j} signature" for j in range(1, n + 1)] + outcome + ["outcome digests"], waive=True)
    else:
        def sealed(d):
            s = d["dealers"][1]["shares"][0]
            s["sealed"] = flip_hex(s["sealed"], 47)
        m("dealer 2: a flipped bit in the tag of the sealed share for trustee 1 → the signature fails, Boole is disqualified",
          sealed, ["dealer 2 signature"] + digests + every_check_seen + outcome + ["request"] + tally[1:])

        def eph(d):
            s = d["dealers"][0]["shares"][2]
            s["ephemeral_proof"] = flip_hex(s["ephemeral_proof"], 33)
        m("dealer 1: a flipped byte in an ephemeral proof (waived signature) → that proof fails, Ada is disqualified",
          eph, ["dealer 1 signature", "dealer 1 ephemeral 3"] + digests + every_check_seen + outcome + ["partial 1 qualified", "request", "tally", "totals"]
          + ["partial 3 proof 0", "partial 3 proof 1", "partial 3 proof 2"], waive=True)

        def swap(d):
            c = d["dealers"][2]["commitments"]
            c[0], c[1] = c[1], c[0]
        m("dealer 3: its two commitments swapped → signature and coefficient proof; Church leaves the key",
          swap, ["dealer 3 signature", "dealer 3 coefficient proof"] + digests + every_check_seen + outcome
          + ["partial 3 qualified", "request", "tally", "totals", "partial 1 proof 0", "partial 1 proof 1", "partial 1 proof 2"])

        def psig(d):
            d["partials"][1]["signature"] = flip_hex(d["partials"][1]["signature"], 33)
        m("partial 3: a flipped byte in the signature → only one valid partial, the totals stay encrypted",
          psig, ["partial 3 signature", "tally", "totals"])

        def pproof(d):
            d["partials"][0]["shares"][1] = flip_hex(d["partials"][0]["shares"][1], 100)
        m("partial 1: a flipped byte in z₀ of item 1's proof (waived signature) → that proof, the tally fails",
          pproof, ["partial 1 signature", "partial 1 proof 1", "tally", "totals"], waive=True)

        def swap_shares(d):
            s = d["partials"][0]["shares"]
            s[0], s[2] = s[2], s[0]
        m("partial 1: items 0 and 2 swapped (waived signature) → both proofs fail (the context binds the item)",
          swap_shares, ["partial 1 signature", "partial 1 proof 0", "partial 1 proof 2", "tally", "totals"], waive=True)

        def csig(d):
            d["checks"][1]["signature"] = flip_hex(d["checks"][1]["signature"], 40)
        m("check 2: a flipped byte in the signature → Boole is InvalidCheckMessage and leaves the key",
          csig, ["check 2 signature", "outcome digests"] + outcome + tally)

        def label(d):
            d["request"]["items"][0]["label"] = "mayor/candidate-x"
        m("request: a changed label → its digest; both partials decrypt another request (their signatures and proofs "
          "bind the digest they carry, so they still verify), no partial is accepted",
          label, ["request digest", "partial 1 request", "partial 3 request", "tally", "totals"])

        def total(d):
            d["expected_totals"][1] = 1
        m("expected_totals changed → only the totals", total, ["totals"])

    def announcement(d):
        a = d["params"]["trustees"][1]
        a["signature"] = flip_hex(a["signature"], 35)
    m("announcement 2: a flipped byte in its signature → BadAnnouncement; the ceremony id changes, so every message "
      "is for another ceremony (WrongCeremony)", announcement, [ALL_MESSAGES])
    return out


def self_test(docs):
    failures = []
    print("self-test: known-answer tests")
    for name, failure in known_answer_tests():
        line(failure is None, name + (f": {failure}" if failure else ""))
        if failure:
            failures.append(f"self-test: {name}: {failure}")
    for path, doc in docs:
        name = os.path.basename(path)
        print(f"self-test: {name}: each change must be rejected, by exactly the expected checks")
        honest = verify_file(doc)
        if honest.failed():
            failures.append(f"self-test: {name} does not verify unchanged: {sorted(honest.failed())}")
            line(False, "unchanged vector verifies")
            continue
        for description, change, waive, expected in mutations(doc):
            changed = copy.deepcopy(doc)
            try:  # the changes are written for the two stored vectors
                change(changed)
                report = verify_file(changed, waive_signatures=waive)
            except Exception as e:
                line(False, f"{description}: the change could not be made or checked ({type(e).__name__}: {e})")
                failures.append(f"self-test: {name}: {description}: {type(e).__name__}: {e}")
                continue
            got = report.failed()
            reasons = "; ".join(f"{k}: {short(f, 60)}" for k, _, f in report.checks if f)
            if expected == {ALL_MESSAGES}:
                # The announcements are under the ceremony id, so every message is now for another
                # ceremony: the parameters, that announcement, the id and every message's ceremony check.
                must = {"params", "announcement 2", "ceremony-id", "outcome faults"}
                must |= {f"dealer {i} ceremony" for i in range(1, len(doc["dealers"]) + 1)}
                must |= {f"check {j} ceremony" for j in range(1, len(doc["checks"]) + 1)}
                ok = must <= got
                want = f"at least {sorted(must)}"
            else:
                ok = got == expected
                want = f"exactly {sorted(expected)}"
            if not got:
                ok = False
            text = f"{description} → rejected ({len(got)} checks)" if ok else f"{description}: expected {want}, got {sorted(got) or 'ACCEPTED'} ({reasons})"
            line(ok, text)
            if not ok:
                failures.append(f"self-test: {name}: {text}")
    return failures


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def line(ok, text):
    print(f"  {'ok  ' if ok else 'FAIL'}  {text}")


def short(text, width=90):
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    unknown = flags - {"--self-test", "--help"}
    if "--help" in flags and not unknown:
        print(__doc__.strip())
        return 0
    if unknown:
        print(__doc__.strip(), file=sys.stderr)
        print(f"error: unexpected arguments {sorted(unknown)}", file=sys.stderr)
        return 2
    docs = []
    for path in args or DEFAULT_FILES:
        try:
            with open(path, encoding="utf-8") as f:
                docs.append((path, json.load(f)))
        except (OSError, ValueError) as e:
            print(f"error: cannot read the vectors {path}: {e}", file=sys.stderr)
            return 2
    start = time.monotonic()
    failures = []
    if "--self-test" in flags:
        failures += self_test(docs)
    else:
        for path, doc in docs:
            name = os.path.basename(path)
            print(f"{name}: {short(doc.get('description', ''), 100)}")
            try:
                report = verify_file(doc)
            except (KeyError, TypeError, ValueError, IndexError) as e:
                print(f"error: {name} is not a ceremony vector file: {type(e).__name__}: {e}", file=sys.stderr)
                return 2
            for key, description, failure in report.checks:
                line(failure is None, description + (f": {failure}" if failure else ""))
                if failure:
                    failures.append(f"{name}: {description}: {failure}")
            bad = report.failed()
            print(f"{name}: {'all ' + str(len(report.checks)) + ' checks passed' if not bad else 'REJECTED'}")
    elapsed = time.monotonic() - start
    what = "self-test" if "--self-test" in flags else "ceremony reference verifier"
    if failures:
        print(f"{what}: FAILED ({len(failures)} failure(s), {elapsed:.1f} s)", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(f"{what}: {len(docs)} file{'s' if len(docs) != 1 else ''}, everything passed ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
