#!/usr/bin/env python3
"""Reference verifier of Tabella's ballot test vectors, written from spec/crypto.md alone.

    python3 spec/reference/verify_vectors.py [spec/vectors/ballots.json] [--self-test] [--transcript]

Checks every vector of the file end to end: the manifest (strict fields, §7.1–§7.2) and its hash
(§7.3), the joint key, the ballot length (§8.2), strict decoding (§10.1), the strict Ed25519
signature (§8.3), every contest's transcript and proofs (§5, §6, §9), the tracking code (§8.4) and
the decryption of every ciphertext with the vector's test-only secret key (§4). Prints one line
per check and exits 0 only if every check passes.

--self-test also makes the verifier reject changed ballots (flipped bytes and bits in ciphertexts,
proofs and signatures, changed manifests) and checks that exactly the expected checks fail.
--transcript prints every transcript operation of every ballot, with the challenges drawn.

Pure Python 3.11 standard library. Section numbers (§) are those of spec/crypto.md.
"""

import hashlib
import json
import os
import sys
import time
import unicodedata

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ristretto255 as r255  # noqa: E402
from ristretto255 import G, G_BYTES, H, L, Transcript, decode, encode, eq, msm  # noqa: E402

DEFAULT_VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors", "ballots.json")

PROTOCOL_VERSION = 1
BALLOT_VERSION = 1
SIGNATURE_DOMAIN = b"tabella/v1/credential-signature"
BALLOT_CONTEXT = b"tabella/v1/ballot"

MAX_SELECTIONS = 256
MAX_RANGED_SELECTIONS = 31
MAX_CONTESTS = 128
MAX_ID_LEN = 64
MAX_TEXT_LEN = 1024
MAX_AGGREGATED_RANGES = 64
U32 = 2**32 - 1
U64 = 2**64 - 1


class Refused(Exception):
    """A refusal that stops the vector's checks (bad manifest, ballot that does not decode)."""


class Failed(Exception):
    """A failed check; later checks still run."""


# ---------------------------------------------------------------------------------------------
# Text (§2.4)
# ---------------------------------------------------------------------------------------------


def strict_hex(what, text):
    """Canonical hex: lowercase digits only, an even number of them (§2.4)."""
    if not isinstance(text, str) or len(text) % 2 or any(c not in "0123456789abcdef" for c in text):
        raise Refused(f"{what}: not canonical lowercase hex")
    return bytes.fromhex(text)


# ---------------------------------------------------------------------------------------------
# Manifest (§7)
# ---------------------------------------------------------------------------------------------

STYLE_FIELDS = {
    "plurality": {},
    "approval": {"min": U32, "max": U32},
    "score": {"max_score": U64},
    "cumulative": {"max_per_selection": U64, "budget": U64},
}


def exact_object(what, obj, fields):
    if not isinstance(obj, dict):
        raise Refused(f"{what}: not a JSON object")
    if set(obj) != set(fields):
        extra = sorted(set(obj) - set(fields))
        missing = sorted(set(fields) - set(obj))
        raise Refused(f"{what}: fields must be exactly {sorted(fields)} (extra {extra}, missing {missing})")


def integer(what, value, top):
    if type(value) is not int or not 0 <= value <= top:
        raise Refused(f"{what}: not an integer in [0, {top}]")
    return value


def text_field(what, value):
    if not isinstance(value, str):
        raise Refused(f"{what}: not a string")
    if len(value.encode()) > MAX_TEXT_LEN:
        raise Refused(f"{what}: longer than {MAX_TEXT_LEN} bytes (TextTooLong)")
    return value


def check_id(value):
    ok = (
        isinstance(value, str)
        and 1 <= len(value.encode()) <= MAX_ID_LEN
        and all(c in "abcdefghijklmnopqrstuvwxyz0123456789-_." for c in value)
    )
    if not ok:
        raise Refused(f"`{value}` is not a valid id (InvalidId)")


def is_language_tag(tag):
    """MANIFEST-3c: `fr`, `ar`, `pt-BR`: 2 or 3 lowercase letters, optionally `-` and 2 uppercase."""
    language, _, region = tag.partition("-")
    ok = 2 <= len(language) <= 3 and all("a" <= c <= "z" for c in language)
    if "-" in tag:
        ok = ok and len(region) == 2 and all("A" <= c <= "Z" for c in region)
    return ok


def validate_translations(m):
    """MANIFEST-3c: every translation for a valid tag, complete, and only of what the manifest has."""
    ts = m["translations"]
    if not isinstance(ts, dict) or len(ts) > 32:
        raise Refused("manifest translations: not an object of at most 32 languages")
    for tag, t in ts.items():
        if not is_language_tag(tag):
            raise Refused(f"translation {tag!r}: not a language tag (InvalidTranslation)")
        exact_object(f"translation {tag}", t, ["title", "contests"] + (["contact"] if "contact" in t else []))
        text_field(f"translation {tag} title", t["title"])
        if ("contact" in m) != ("contact" in t):
            raise Refused(f"translation {tag}: the contact is translated iff the manifest has one (InvalidTranslation)")
        if "contact" in t:
            c = text_field(f"translation {tag} contact", t["contact"])
            if not c.strip() or any(unicodedata.category(x) == "Cc" for x in c):
                raise Refused(f"translation {tag}: contact empty or with a control character (InvalidTranslation)")
        cs = t["contests"]
        if not isinstance(cs, dict) or set(cs) != {c["id"] for c in m["contests"]}:
            raise Refused(f"translation {tag}: not exactly the manifest's contests (InvalidTranslation)")
        for c in m["contests"]:
            ct = cs[c["id"]]
            exact_object(f"translation {tag} contest {c['id']}", ct, ["title", "selections"])
            text_field(f"translation {tag} contest title", ct["title"])
            sels = ct["selections"]
            if not isinstance(sels, dict) or set(sels) != {s["id"] for s in c["selections"]}:
                raise Refused(f"translation {tag} contest {c['id']}: not exactly its options (InvalidTranslation)")
            for label in sels.values():
                text_field(f"translation {tag} label", label)


def validate_manifest(m):
    """§7.1 strict JSON shape and §7.2 rules, in the spec's order; returns the contests' shapes."""
    booth = m.get("booth")
    optional = [k for k in ("booth", "contact", "translations") if k in m]
    exact_object("manifest", m, ["title", "contests"] + optional)
    if booth is not None and not (
        isinstance(booth, str) and len(booth) == 64 and all(c in "0123456789abcdef" for c in booth)
    ):
        raise Refused("manifest booth: not 64 lowercase hex digits")
    text_field("manifest title", m["title"])
    if "contact" in m:
        # MANIFEST-3b: 1 to 1024 bytes, not only spaces, no control characters.
        contact = m["contact"]
        if not isinstance(contact, str):
            raise Refused("manifest contact: not a string")
        text_field("manifest contact", contact)
        if not contact.strip() or any(unicodedata.category(c) == "Cc" for c in contact):
            raise Refused("manifest contact: empty or with a control character (InvalidContact)")
    if "translations" in m:
        validate_translations(m)
    contests = m["contests"]
    if not isinstance(contests, list) or not 1 <= len(contests) <= MAX_CONTESTS:
        raise Refused(f"a manifest needs 1 to {MAX_CONTESTS} contests (ContestCount)")
    seen = set()
    for c in contests:
        exact_object("contest", c, ["id", "title", "style", "selections"])
        check_id(c["id"])
        text_field(f"contest `{c['id']}` title", c["title"])
        style = c["style"]
        if not isinstance(style, dict) or style.get("type") not in STYLE_FIELDS:
            raise Refused(f"contest `{c['id']}`: unknown style")
        kind = style["type"]
        exact_object(f"contest `{c['id']}` {kind} style", style, ["type", *STYLE_FIELDS[kind]])
        for name, top in STYLE_FIELDS[kind].items():
            integer(f"contest `{c['id']}` {name}", style[name], top)
        sels = c["selections"]
        if not isinstance(sels, list):
            raise Refused(f"contest `{c['id']}`: selections is not a list")
        n = len(sels)
        top = MAX_RANGED_SELECTIONS if kind in ("score", "cumulative") else MAX_SELECTIONS
        if not 1 <= n <= top:
            raise Refused(f"contest `{c['id']}`: {n} selections, 1 to {top} allowed (SelectionCount)")
        ids = set()
        for s in sels:
            exact_object("selection", s, ["id", "label"])
            check_id(s["id"])
            text_field(f"selection `{s['id']}` label", s["label"])
            if s["id"] in ids:
                raise Refused(f"duplicate selection id {c['id']}/{s['id']} (DuplicateId)")
            ids.add(s["id"])
        if kind == "approval":
            if not style["min"] <= style["max"] <= n or style["max"] == 0:
                raise Refused(f"contest `{c['id']}`: approval limits (InvalidLimits)")
        elif kind == "score":
            if not 1 <= style["max_score"] <= U32:
                raise Refused(f"contest `{c['id']}`: max_score (InvalidLimits)")
        elif kind == "cumulative":
            if not (1 <= style["max_per_selection"] <= U32 and 1 <= style["budget"] <= U32):
                raise Refused(f"contest `{c['id']}`: cumulative limits (InvalidLimits)")
        if c["id"] in seen:
            raise Refused(f"duplicate contest id `{c['id']}` (DuplicateId)")
        seen.add(c["id"])
    return [contest_shape(c) for c in contests]


def manifest_bytes(m):
    """§7.3 canonical bytes."""

    def s(x):
        b = x.encode()
        return len(b).to_bytes(4, "big") + b

    out = b"tabella/v1/manifest" + s(m["title"]) + len(m["contests"]).to_bytes(4, "big")
    for c in m["contests"]:
        st = c["style"]
        tag, p1, p2 = {
            "plurality": lambda: (1, 0, 0),
            "approval": lambda: (2, st["min"], st["max"]),
            "score": lambda: (3, st["max_score"], 0),
            "cumulative": lambda: (4, st["max_per_selection"], st["budget"]),
        }[st["type"]]()
        out += s(c["id"]) + s(c["title"]) + bytes([tag]) + p1.to_bytes(8, "big") + p2.to_bytes(8, "big")
        out += len(c["selections"]).to_bytes(4, "big")
        for sel in c["selections"]:
            out += s(sel["id"]) + s(sel["label"])
    if m.get("booth") is not None:
        # MANIFEST-3a: the tagged booth trailer.
        out += s("booth") + bytes.fromhex(m["booth"])
    if m.get("contact") is not None:
        # MANIFEST-3b: the tagged contact trailer, after the booth's.
        out += s("contact") + s(m["contact"])
    if m.get("translations"):
        # MANIFEST-3c: the translations trailer, languages in tag order (bytewise), then the
        # manifest's own order of contests and options.
        ts = m["translations"]
        out += s("translations") + len(ts).to_bytes(4, "big")
        for tag in sorted(ts, key=lambda t: t.encode()):
            t = ts[tag]
            out += s(tag) + s(t["title"])
            if "contact" in t:
                out += s(t["contact"])
            for c in m["contests"]:
                ct = t["contests"][c["id"]]
                out += s(ct["title"])
                for sel in c["selections"]:
                    out += s(ct["selections"][sel["id"]])
    return out


# ---------------------------------------------------------------------------------------------
# Contest shapes and the ballot layout (§6.5 PROOF-RANGE-2, §8.2, §9)
# ---------------------------------------------------------------------------------------------


class Shape:
    def __init__(self, contest):
        st = contest["style"]
        self.id = contest["id"]
        self.kind = st["type"]
        self.n = len(contest["selections"])
        self.selection_ids = [s["id"] for s in contest["selections"]]
        self.max_per_selection = {"plurality": 1, "approval": 1}.get(self.kind) or st.get("max_score") or st.get(
            "max_per_selection"
        )
        self.total = {
            "plurality": (1, 1),
            "approval": (st.get("min"), st.get("max")),
            "score": (0, (st.get("max_score") or 0) * self.n),
            "cumulative": (0, st.get("budget")),
        }[self.kind]
        # §9.2: no total proof when the limits are exactly 0..=n.
        self.total_proof = self.kind == "approval" and not (st["min"] == 0 and st["max"] == self.n)
        self.intervals = None
        if self.kind == "score":
            self.intervals = [(0, st["max_score"])] * self.n
        elif self.kind == "cumulative":
            self.intervals = [(0, st["max_per_selection"])] * self.n + [(0, st["budget"])]
        if self.intervals:
            self.bits, self.values = range_shape(self.intervals)
            self.rounds = (self.bits * self.values).bit_length() - 1

    def describe(self):
        if self.kind == "plurality":
            return f"plurality of {self.n}"
        if self.kind == "approval":
            lo, hi = self.total
            total = f"total proof of {hi - lo + 1} branches" if self.total_proof else "no total proof (limits 0..=n)"
            return f"approval {lo}..={hi} of {self.n}: {self.n} selection proofs, {total}"
        return (
            f"{self.kind} of {self.n}: {self.n} linking proofs, range proof over {len(self.intervals)} intervals"
            f" (n_b = {self.bits}, m = {self.values})"
        )

    def length(self):
        n = self.n
        size = 64 * n
        if self.kind == "plurality":
            size += disj_len(n)
        elif self.kind == "approval":
            size += n * disj_len(2)
            if self.total_proof:
                size += disj_len(self.total[1] - self.total[0] + 1)
        else:
            size += 32 * n + 192 * n + range_proof_len(self.rounds)
        return size


def contest_shape(c):
    return Shape(c)


def range_shape(intervals):
    widest = max(hi - lo for lo, hi in intervals)
    bits = next((b for b in (8, 16, 32) if widest < (1 << b)), 64)
    values = 1
    while values < max(2 * len(intervals), 1):
        values *= 2
    if values > MAX_AGGREGATED_RANGES:
        raise Refused("TooManyRanges")
    return bits, values


def disj_len(branches):
    return 128 * branches - 32


def range_proof_len(rounds):
    return 32 * (9 + 2 * rounds)


def ballot_len(shapes):
    return 1 + 32 + 32 + sum(s.length() for s in shapes) + 64


# ---------------------------------------------------------------------------------------------
# Strict decoding (§2.3, §10.1)
# ---------------------------------------------------------------------------------------------


class Reader:
    """Sequential strict reader; records every field's name and offset (for the self-test)."""

    def __init__(self, data):
        self.data = data
        self.pos = 0
        self.fields = []  # (name, offset, length)

    def take(self, n, name):
        if len(self.data) - self.pos < n:
            raise Refused(f"{name}: WrongLength (expected {n} bytes, {len(self.data) - self.pos} remain)")
        self.fields.append((name, self.pos, n))
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def point(self, name, identity_allowed=False):
        raw = self.take(32, name)
        P = decode(raw)
        if P is None:
            raise Refused(f"{name}: NonCanonicalPoint")
        if not identity_allowed and raw == bytes(32):
            raise Refused(f"{name}: IdentityPoint")
        return raw, P

    def scalar(self, name):
        s = r255.decode_scalar(self.take(32, name))
        if s is None:
            raise Refused(f"{name}: NonCanonicalScalar")
        return s


def read_disjunctive(rd, branches, name):
    commitments = []
    for i in range(branches):
        commitments.append((rd.point(f"{name} a_{i}"), rd.point(f"{name} b_{i}")))
    challenges = [rd.scalar(f"{name} c_{i}") for i in range(branches - 1)]
    responses = [rd.scalar(f"{name} z_{i}") for i in range(branches)]
    return commitments, challenges, responses


def read_range_proof(rd, rounds, name):
    """§6.5 encoding: exactly 32·(9 + 2K) bytes, scalars canonical; points decoded at verification."""
    proof = {}
    for label in ("A", "S", "T_1", "T_2"):
        proof[label] = rd.take(32, f"{name} {label}")
    for label in ("t_x", "t_x_blinding", "e_blinding"):
        proof[label] = rd.scalar(f"{name} {label}")
    proof["LR"] = [(rd.take(32, f"{name} L_{k + 1}"), rd.take(32, f"{name} R_{k + 1}")) for k in range(rounds)]
    proof["a"] = rd.scalar(f"{name} a")
    proof["b"] = rd.scalar(f"{name} b")
    return proof


def decode_ballot(data, shapes, election_id):
    """§10.1, in order; raises Refused with the first failure."""
    if data[:1] and data[0] != BALLOT_VERSION:
        raise Refused(f"UnsupportedVersion({data[0]})")
    expected = ballot_len(shapes)
    if len(data) != expected:
        raise Refused(f"ballot: WrongLength (expected {expected}, found {len(data)})")
    rd = Reader(data)
    rd.take(1, "version")
    eid = rd.take(32, "election id")
    if eid != election_id:
        raise Refused("WrongElection")
    credential = rd.take(32, "credential key")
    A = r255.ed_decode(credential)
    if A is None:
        raise Refused("credential key: NonCanonicalKey")
    if r255.ed_small_order(A):
        raise Refused("credential key: WeakKey")
    contests = []
    for ci, sh in enumerate(shapes):
        name = f"contest {ci} `{sh.id}`"
        c = {"cts": []}
        for j in range(sh.n):
            alpha = rd.point(f"{name} alpha {j}")
            beta = rd.point(f"{name} beta {j}", identity_allowed=True)
            c["cts"].append((alpha, beta))
        if sh.kind == "plurality":
            c["unit"] = read_disjunctive(rd, sh.n, f"{name} unit-vector proof")
        elif sh.kind == "approval":
            c["bits"] = [read_disjunctive(rd, 2, f"{name} selection proof {j}") for j in range(sh.n)]
            if sh.total_proof:
                lo, hi = sh.total
                c["total"] = read_disjunctive(rd, hi - lo + 1, f"{name} total proof")
        else:
            c["V"] = [rd.point(f"{name} commitment {j}") for j in range(sh.n)]
            c["links"] = []
            for j in range(sh.n):
                T = [rd.point(f"{name} linking proof {j} T{k}") for k in (1, 2, 3)]
                z = [rd.scalar(f"{name} linking proof {j} {k}") for k in ("z_m", "z_r", "z_s")]
                c["links"].append((T, z))
            c["range"] = read_range_proof(rd, sh.rounds, f"{name} range proof")
        contests.append(c)
    sig = rd.take(64, "signature")
    R = r255.ed_decode(sig[:32])
    if R is None or int.from_bytes(sig[32:], "little") >= L:
        raise Refused("signature: NonCanonicalSignature")
    if r255.ed_small_order(R):
        raise Refused("signature: SignatureNonceSmallOrder")
    if rd.pos != len(data):
        raise Refused("TrailingData")
    return {"credential": credential, "contests": contests, "signature": sig, "fields": rd.fields}


# ---------------------------------------------------------------------------------------------
# Proofs (§6)
# ---------------------------------------------------------------------------------------------


def zero(pairs):
    """Whether Σ k·P is the identity: one verification equation (§6.1, evaluated on its own)."""
    return r255.is_identity(msm(pairs))


def verify_disjunctive(t, g2_raw, G2, X, Y, offsets, proof, what):
    """§6.3 PROOF-DISJ-2 transcript and PROOF-DISJ-4 equations. Returns a failure or None."""
    commitments, challenges, responses = proof
    t.domain_sep(b"tabella/v1/disjunctive-dleq", len(offsets))
    t.append_message(b"G1", G_BYTES)
    t.append_message(b"G2", g2_raw)
    for d in offsets:
        t.append_scalar(b"delta", d)
    for (a_raw, _), (b_raw, _) in commitments:
        t.append_point_nonidentity(b"a", a_raw)
        t.append_point_nonidentity(b"b", b_raw)
    c = t.challenge_scalar(b"c")
    cs = challenges + [(c - sum(challenges)) % L]
    for i, (((_, a), (_, b)), ci, zi, d) in enumerate(zip(commitments, cs, responses, offsets)):
        # z_i·G = a_i + c_i·X   and   z_i·G2 = b_i + c_i·(Y + δ_i·G)
        if not zero([(zi, G), (-1, a), (-ci, X)]):
            return f"{what}: branch {i}, first equation fails"
        if not zero([(zi, G2), (-1, b), (-ci, Y), (-ci * d, G)]):
            return f"{what}: branch {i}, second equation fails"
    return None


def verify_linking(t, PK, ct, V, link, what):
    """§6.4."""
    (_, alpha), (_, beta) = ct
    T, (zm, zr, zs) = link
    t.domain_sep(b"tabella/v1/ciphertext-commitment-link", 1)
    for label, (raw, _) in zip((b"T1", b"T2", b"T3"), T):
        t.append_point_nonidentity(label, raw)
    c = t.challenge_scalar(b"c")
    (_, T1), (_, T2), (_, T3) = T
    if not zero([(zr, G), (-1, T1), (-c, alpha)]):
        return f"{what}: first equation fails"
    if not zero([(zm, G), (zr, PK_CACHE[0]), (-1, T2), (-c, beta)]):
        return f"{what}: second equation fails"
    if not zero([(zm, G), (zs, H), (-1, T3), (-c, V)]):
        return f"{what}: third equation fails"
    return None


PK_CACHE = [None]  # the current vector's joint key (set per vector)
_GENERATORS = {}


def generators(label, party, count):
    key = (label, party)
    if len(_GENERATORS.get(key, [])) < count:
        _GENERATORS[key] = r255.bulletproof_generators(label, party, count)
    return _GENERATORS[key][:count]


def verify_range(t, commitments, intervals, bits, values, proof, what):
    """§6.5: our statement, then bulletproofs 5.0 "rangeproof v1" with the two checks (1), (2)."""
    t.domain_sep(b"tabella/v1/range", len(intervals))
    t.append_u64(b"bits", bits)
    for lo, hi in intervals:
        t.append_u64(b"lo", lo)
        t.append_u64(b"hi", hi)
    items = list(commitments)
    if len(intervals) > len(commitments):  # cumulative: the budget interval is over Σ V_j
        items.append(msm([(1, V) for V in commitments]))
    derived = []
    for V, (lo, hi) in zip(items, intervals):
        derived += [msm([(1, V), (-lo, G)]), msm([(hi, G), (-1, V)])]
    derived += [H] * (values - len(derived))
    n, m = bits, values
    N = n * m
    K = N.bit_length() - 1

    t.append_message(b"dom-sep", b"rangeproof v1")
    t.append_u64(b"n", n)
    t.append_u64(b"m", m)
    for P in derived:
        t.append_message(b"V", encode(P))  # identity allowed
    points = {}
    for label in ("A", "S"):
        t.append_point_nonidentity(label.encode(), proof[label])
    y = t.challenge_scalar(b"y")
    z = t.challenge_scalar(b"z")
    for label in ("T_1", "T_2"):
        t.append_point_nonidentity(label.encode(), proof[label])
    x = t.challenge_scalar(b"x")
    tx, txb, eb = proof["t_x"], proof["t_x_blinding"], proof["e_blinding"]
    t.append_scalar(b"t_x", tx)
    t.append_scalar(b"t_x_blinding", txb)
    t.append_scalar(b"e_blinding", eb)
    w = t.challenge_scalar(b"w")
    t.append_message(b"dom-sep", b"ipp v1")
    t.append_u64(b"n", N)
    us = []
    for L_raw, R_raw in proof["LR"]:
        t.append_point_nonidentity(b"L", L_raw)
        t.append_point_nonidentity(b"R", R_raw)
        us.append(t.challenge_scalar(b"u"))

    # Every point must decode (identity already refused by the transcript).
    for label in ("A", "S", "T_1", "T_2"):
        points[label] = decode(proof[label])
        if points[label] is None:
            return f"{what}: {label} does not decode (RangeProofFailed)"
    LR = []
    for k, (L_raw, R_raw) in enumerate(proof["LR"]):
        Lp, Rp = decode(L_raw), decode(R_raw)
        if Lp is None or Rp is None:
            return f"{what}: L_{k + 1} or R_{k + 1} does not decode (RangeProofFailed)"
        LR.append((Lp, Rp))
    if any(u == 0 for u in us) or y == 0:
        return f"{what}: zero challenge (RangeProofFailed)"

    def powers(b, count):
        out, acc = [], 1
        for _ in range(count):
            out.append(acc)
            acc = acc * b % L
        return out

    # (1) t_x·G + t_x_blinding·H = z²·Σ z^j·V'_j + δ(y,z)·G + x·T_1 + x²·T_2
    y_pow = powers(y, N)
    z_pow = powers(z, m + 3)
    delta = ((z - z * z) * sum(y_pow) - z_pow[3] * sum(powers(2, n)) * sum(z_pow[:m])) % L
    eq1 = [(tx, G), (txb, H), (-delta, G), (-x, points["T_1"]), (-x * x, points["T_2"])]
    eq1 += [(-z_pow[2] * z_pow[j], derived[j]) for j in range(m)]
    if not zero(eq1):
        return f"{what}: check (1) on t_x fails (RangeProofFailed)"

    # (2) the inner-product argument.
    Gs = [P for j in range(m) for P in generators(b"G", j, n)]
    Hs = [P for j in range(m) for P in generators(b"H", j, n)]
    a, b = proof["a"], proof["b"]
    u_inv = [pow(u, L - 2, L) for u in us]
    y_inv_pow = powers(pow(y, L - 2, L), N)
    s = []
    for i in range(N):
        v = 1
        for k in range(K):  # round k+1 pairs with bit K−1−k of i
            v = v * (us[k] if (i >> (K - 1 - k)) & 1 else u_inv[k]) % L
        s.append(v)
    Q = (w, G)  # Q = w·G
    eq2 = [(1, points["A"]), (x, points["S"]), (-eb, H), (tx * Q[0], G)]
    for i in range(N):
        h_coeff = (z * y_pow[i] + z_pow[2 + i // n] * pow(2, i % n, L)) * y_inv_pow[i]
        eq2.append((-z - a * s[i], Gs[i]))
        eq2.append((h_coeff - b * pow(s[i], L - 2, L) * y_inv_pow[i], Hs[i]))
    for u, ui, (Lp, Rp) in zip(us, u_inv, LR):
        eq2 += [(u * u, Lp), (ui * ui, Rp)]
    eq2.append((-a * b * Q[0], G))
    if not zero(eq2):
        return f"{what}: check (2), the inner-product argument, fails (RangeProofFailed)"
    return None


# ---------------------------------------------------------------------------------------------
# Decryption (§4.2, §4.3) with the test-only secret key
# ---------------------------------------------------------------------------------------------


def discrete_log(M, top):
    """§4.3 baby-step giant-step for m ∈ [0, top], or None."""
    step = max(1, -(-int((top + 1) ** 0.5) // 1))
    while step * step < top + 1:
        step += 1
    baby = {}
    P = r255.IDENTITY
    for j in range(step):
        baby.setdefault(encode(P), j)
        P = r255.add(P, G)
    giant = r255.neg(r255.mul(step, G))
    gamma = M
    for i in range(top // step + 1):
        j = baby.get(encode(gamma))
        if j is not None:
            m = i * step + j
            return m if m <= top else None
        gamma = r255.add(gamma, giant)
    return None


# ---------------------------------------------------------------------------------------------
# One vector
# ---------------------------------------------------------------------------------------------


class Report:
    def __init__(self, name):
        self.name = name
        self.checks = []  # (key, description, failure or None)

    def add(self, key, description, failure=None):
        self.checks.append((key, description, failure))

    def failed(self):
        return {key for key, _, failure in self.checks if failure is not None}

    def run(self, key, description, fn):
        try:
            failure = fn()
        except Failed as e:
            failure = str(e)
        self.add(key, description, failure)
        return failure


def verify_vector(v, ballot=None, manifest=None, transcript_hash=None, log=None):
    """Verifies one vector; `ballot`/`manifest` override the stored ones (self-test), and
    `transcript_hash` the manifest hash put into the transcripts and the signed message."""
    report = Report(v["name"])
    manifest = v["manifest"] if manifest is None else manifest
    try:
        _verify(v, report, manifest, ballot, transcript_hash, log)
    except Refused as e:
        report.add("refused", "ballot refused", str(e))
    return report


def _verify(v, report, manifest, ballot, transcript_hash, log):
    # Manifest (§7): strict fields and rules, then the hash of the canonical bytes.
    try:
        shapes = validate_manifest(manifest)
    except Refused as e:
        report.add("manifest", "manifest: exact fields, §7.2 rules", str(e))
        raise Refused("invalid manifest") from None
    report.add("manifest", "manifest: exact fields of every object and style, §7.2 rules")
    mh = hashlib.sha256(manifest_bytes(manifest)).digest()
    stored_hash = strict_hex("manifest_hash", v["manifest_hash"])
    report.add(
        "hash",
        f"manifest hash {mh.hex()[:16]}… = SHA-256 of the §7.3 canonical bytes",
        None if mh == stored_hash else f"computed {mh.hex()}, stored {stored_hash.hex()}",
    )
    if transcript_hash is not None:
        mh = transcript_hash

    # Keys (§4.1): PK decodes, is not the identity, and is s·G for the test-only secret key.
    pk_raw = strict_hex("joint_key", v["joint_key"])
    PK = decode(pk_raw)
    secret = r255.decode_scalar(strict_hex("election_secret_key", v["election_secret_key"]))

    def joint_key():
        if PK is None or pk_raw == bytes(32):
            raise Refused("joint key: not a canonical non-identity point")
        if secret is None or not eq(r255.mul(secret, G), PK):
            raise Failed("PK ≠ s·G")

    report.run("joint-key", "joint key PK decodes, is not the identity, and equals s·G", joint_key)
    PK_CACHE[0] = PK

    # Length (§8.2) and tracking code (§8.4), on the raw bytes.
    data = strict_hex("ballot", v["ballot"]) if ballot is None else ballot
    expected = ballot_len(shapes)
    report.add(
        "length",
        f"ballot length {expected} bytes from the manifest (§8.2) = ballot_len = len(ballot)",
        None if expected == v["ballot_len"] == len(data) else f"layout {expected}, ballot_len {v['ballot_len']}, ballot {len(data)}",
    )
    code = hashlib.sha256(b"\x00" + data).hexdigest()
    report.add(
        "tracking",
        f"tracking code {code[:16]}… = SHA-256(0x00 ‖ ballot) (§8.4)",
        None if code == v["tracking_code"] else f"computed {code}, stored {v['tracking_code']}",
    )

    # Decoding (§10.1).
    election_id = strict_hex("election_id", v["election_id"])
    try:
        b = decode_ballot(data, shapes, election_id)
    except Refused as e:
        report.add("decode", "strict decoding (§10.1)", str(e))
        raise Refused("the ballot does not decode") from None
    if b["credential"] != strict_hex("credential_key", v["credential_key"]):
        report.add("decode", "strict decoding (§10.1)", "credential key differs from the vector's")
    else:
        report.add("decode", "strict decoding (§10.1): version, election id, credential key, every contest, signature encoding")

    # Signature (§8.3): strict Ed25519 over the signature input.
    body = data[:-64]
    signed = SIGNATURE_DOMAIN + len(BALLOT_CONTEXT).to_bytes(8, "big") + BALLOT_CONTEXT + mh + body
    reason = r255.ed25519_verify_strict(b["credential"], signed, b["signature"])
    report.add("signature", "signature: strict Ed25519 over manifest hash ‖ body (§8.3)", reason)

    # The ballot transcript (§5.4) and each contest (§5.5, §9).
    t = Transcript(b"tabella", log)
    t.domain_sep(b"tabella/v1/ballot", PROTOCOL_VERSION)
    t.append_message(b"election-id", election_id)
    t.append_message(b"manifest-hash", mh)
    t.append_message(b"joint-key", pk_raw)
    t.append_message(b"credential", b["credential"])
    for ci, (sh, c) in enumerate(zip(shapes, b["contests"])):
        t.append_u64(b"contest", ci)
        t.append_message(b"contest-id", sh.id.encode())
        for sel_id, ((a_raw, _), (b_raw, _)) in zip(sh.selection_ids, c["cts"]):
            t.append_message(b"selection-id", sel_id.encode())
            t.append_message(b"alpha", a_raw)
            t.append_message(b"beta", b_raw)
        report.run(f"contest {ci}", f"contest {ci} `{sh.id}` ({sh.describe()})", lambda: verify_contest(t, sh, c, pk_raw, PK))

    # Decryption (§4.2–§4.3) with the test-only key: every selection decrypts to the choice.
    def decryption():
        choices = v["choices"]
        for sh, c, values in zip(shapes, b["contests"], choices):
            for j, ((_, alpha), (_, beta)) in enumerate(c["cts"]):
                M = msm([(1, beta), (-secret, alpha)])
                m = discrete_log(M, sh.max_per_selection)
                if m is None:
                    raise Failed(f"contest `{sh.id}` selection {j}: no value in [0, {sh.max_per_selection}] (choice {values[j]})")
                if m != values[j]:
                    raise Failed(f"contest `{sh.id}` selection {j}: decrypts to {m}, choice {values[j]}")

    n_cts = sum(sh.n for sh in shapes)
    report.run("decryption", f"decryption: all {n_cts} ciphertexts decrypt (β − s·α, §4.3) to the choices", decryption)


def verify_contest(t, sh, c, pk_raw, PK):
    failures = []

    def note(f):
        if f:
            failures.append(f)

    cts = c["cts"]
    if sh.kind == "plurality":
        # §9.1: ρ from the transcript, then one disjunctive proof with L = n.
        t.domain_sep(b"tabella/v1/unit-vector", sh.n)
        rho = [t.challenge_scalar(b"rho") for _ in range(sh.n)]
        X = msm([(r, a) for r, ((_, a), _) in zip(rho, cts)])
        Y = msm([(r, b) for r, (_, (_, b)) in zip(rho, cts)])
        note(verify_disjunctive(t, pk_raw, PK, X, Y, [-r % L for r in rho], c["unit"], "unit-vector proof"))
    elif sh.kind == "approval":
        for j, (((_, a), (_, b)), proof) in enumerate(zip(cts, c["bits"])):
            note(verify_disjunctive(t, pk_raw, PK, a, b, [0, L - 1], proof, f"selection proof {j}"))
        if sh.total_proof:
            lo, hi = sh.total
            X = msm([(1, a) for (_, a), _ in cts])
            Y = msm([(1, b) for _, (_, b) in cts])
            offsets = [-k % L for k in range(lo, hi + 1)]
            note(verify_disjunctive(t, pk_raw, PK, X, Y, offsets, c["total"], "total proof"))
    else:
        for raw, _ in c["V"]:
            t.append_message(b"commitment", raw)
        for j, (ct, (_, V), link) in enumerate(zip(cts, c["V"], c["links"])):
            note(verify_linking(t, PK, ct, V, link, f"linking proof {j}"))
        note(verify_range(t, [V for _, V in c["V"]], sh.intervals, sh.bits, sh.values, c["range"], "range proof"))
    if failures:
        raise Failed("; ".join(failures))


# ---------------------------------------------------------------------------------------------
# Self-test: changed ballots and manifests must be rejected, for the expected reasons
# ---------------------------------------------------------------------------------------------


def field(fields, name):
    for n, offset, length in fields:
        if n == name:
            return offset, length
    raise KeyError(name)


def flip(data, offset, mask=0x01):
    out = bytearray(data)
    out[offset] ^= mask
    return bytes(out)


def replace(data, offset, new):
    return data[:offset] + new + data[offset + len(new) :]


def mutations(v):
    """(description, ballot or None, manifest or None, transcript hash or None, expected failing
    check keys (a set), or "refused" for a ballot that must not decode)."""
    manifest = v["manifest"]
    shapes = validate_manifest(manifest)
    data = strict_hex("ballot", v["ballot"])
    fields = decode_ballot(data, shapes, strict_hex("election_id", v["election_id"]))["fields"]
    keys = [f"contest {k}" for k in range(len(shapes))]

    def from_contest(k):
        return set(keys[k:])

    out = []
    first = f"contest 0 `{shapes[0].id}`"
    out.append(("version byte 1 → 2", replace(data, 0, b"\x02"), None, None, "refused"))
    off, _ = field(fields, f"{first} alpha 0")
    out.append(("bit flipped in a ciphertext (α_0, first byte)", flip(data, off), None, None, "refused"))
    alpha = decode(data[off : off + 32])
    out.append(
        (
            "ciphertext α_0 replaced by the valid point α_0 + G",
            replace(data, off, encode(r255.add(alpha, G))),
            None,
            None,
            {"signature", "tracking", "decryption"} | from_contest(0),
        )
    )
    off, _ = field(fields, f"{first} beta 0")
    beta = decode(data[off : off + 32])
    out.append(
        (
            "ciphertext β_0 replaced by β_0 + G (one more vote)",
            replace(data, off, encode(r255.add(beta, G))),
            None,
            None,
            {"signature", "tracking", "decryption"} | from_contest(0),
        )
    )
    out.append(("identity α_0", replace(data, off - 32, bytes(32)), None, None, "refused"))
    for k, sh in enumerate(shapes):
        name = f"contest {k} `{sh.id}`"
        if sh.kind == "plurality":
            off, _ = field(fields, f"{name} unit-vector proof z_0")
            out.append((f"byte flipped in a proof scalar ({sh.id}: unit-vector z_0)", flip(data, off + 5, 0x10), None, None, {"signature", "tracking", keys[k]}))
            off, _ = field(fields, f"{name} unit-vector proof c_0")
            out.append((f"byte flipped in a proof scalar ({sh.id}: unit-vector c_0)", flip(data, off + 7, 0x04), None, None, {"signature", "tracking", keys[k]}))
            off, _ = field(fields, f"{name} unit-vector proof z_1")
            z = int.from_bytes(data[off : off + 32], "little")
            out.append((f"proof scalar z_1 + ℓ (non-canonical, {sh.id})", replace(data, off, (z + L).to_bytes(32, "little")), None, None, "refused"))
        elif sh.kind == "approval":
            off, _ = field(fields, f"{name} selection proof 1 z_1")
            out.append((f"byte flipped in a proof scalar ({sh.id}: selection proof 1 z_1)", flip(data, off + 3), None, None, {"signature", "tracking", keys[k]}))
            if sh.total_proof:
                off, _ = field(fields, f"{name} total proof z_0")
                out.append((f"byte flipped in a proof scalar ({sh.id}: total proof z_0)", flip(data, off + 9), None, None, {"signature", "tracking", keys[k]}))
        else:
            off, _ = field(fields, f"{name} linking proof 0 z_m")
            out.append((f"byte flipped in a proof scalar ({sh.id}: linking proof z_m)", flip(data, off + 2), None, None, {"signature", "tracking", keys[k]}))
            off, _ = field(fields, f"{name} range proof t_x")
            # t_x is absorbed by the transcript: every later contest's challenges change too.
            out.append((f"byte flipped in a proof scalar ({sh.id}: range proof t_x)", flip(data, off + 4), None, None, {"signature", "tracking"} | from_contest(k)))
            off, _ = field(fields, f"{name} range proof b")
            out.append((f"byte flipped in a proof scalar ({sh.id}: range proof b)", flip(data, off + 1), None, None, {"signature", "tracking", keys[k]}))
            off, _ = field(fields, f"{name} range proof A")
            out.append((f"range proof A replaced by G ({sh.id})", replace(data, off, G_BYTES), None, None, {"signature", "tracking"} | from_contest(k)))
    off, _ = field(fields, "signature")
    out.append(("byte flipped in the signature's s", flip(data, off + 32 + 3), None, None, {"signature", "tracking"}))
    s = int.from_bytes(data[off + 32 : off + 64], "little")
    out.append(("signature s + ℓ (malleated, non-canonical)", replace(data, off + 32, (s + L).to_bytes(32, "little")), None, None, "refused"))
    R = r255.ed_decode(data[off : off + 32])
    # R replaced by another valid point of the prime-order subgroup: decodes, fails the equation.
    R2 = r255.add(R, r255.ED_B)
    R2_bytes = _ed_encode(R2)
    out.append(("signature R replaced by R + B", replace(data, off, R2_bytes), None, None, {"signature", "tracking"}))
    small = bytes([1]) + bytes(31)  # the Edwards identity: small order
    out.append(("signature R = identity (small order)", replace(data, off, small), None, None, "refused"))
    off, _ = field(fields, "credential key")
    out.append(("credential key = identity (small order)", replace(data, off, small), None, None, "refused"))
    last = len(shapes) - 1
    # Manifest changes.
    m2 = json.loads(json.dumps(manifest))
    m2["contests"][0]["style"]["extra"] = 1
    out.append(("unknown field in a style object", None, m2, None, {"manifest", "refused"}))
    m3 = json.loads(json.dumps(manifest))
    m3["contests"][last]["selections"][0]["id"] += "x"
    out.append(
        (
            "selection id renamed in the last contest, transcripts with the stored hash (ids are bound, §5.4)",
            None,
            m3,
            strict_hex("manifest_hash", v["manifest_hash"]),
            {"hash", keys[last]},
        )
    )
    m4 = json.loads(json.dumps(manifest))
    m4["contests"][0]["id"] += "x"
    out.append(
        (
            "contest id renamed in the first contest, transcripts with the stored hash",
            None,
            m4,
            strict_hex("manifest_hash", v["manifest_hash"]),
            {"hash"} | from_contest(0),
        )
    )
    m5 = json.loads(json.dumps(manifest))
    m5["title"] += "!"
    out.append(("manifest title changed", None, m5, None, {"hash", "signature"} | from_contest(0)))
    return out


def _ed_encode(P):
    x, y, z, _ = P
    zi = r255.inv(z)
    x, y = x * zi % r255.p, y * zi % r255.p
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def unit_self_tests():
    """Rejections that do not need a vector: hex text, Ed25519 encodings."""
    results = []
    for text, ok in (("abcd", True), ("ABCD", False), ("aBcd", False), ("abc", False), ("0xab", False), ("ab cd", False)):
        try:
            strict_hex("x", text)
            got = True
        except Refused:
            got = False
        results.append((f"hex {text!r} {'accepted' if ok else 'refused'} (§2.4)", None if got == ok else "wrong"))
    # §8.2 with an approval contest whose limits are 0..=n (no total proof): plurality of 3 and
    # approval 0..=3 of 3 give 65 + (192 + 352) + (192 + 3·224) + 64 bytes.
    sel = [{"id": i, "label": i.upper()} for i in "abc"]
    m = {
        "title": "t",
        "contests": [
            {"id": "p", "title": "P", "style": {"type": "plurality"}, "selections": sel},
            {"id": "a", "title": "A", "style": {"type": "approval", "min": 0, "max": 3}, "selections": sel},
        ],
    }
    got = ballot_len(validate_manifest(m))
    results.append(("approval 0..=n has no total proof: ballot length 1537 (§8.2)", None if got == 1537 else f"got {got}"))
    m["contests"][1]["style"]["min"] = 1
    got = ballot_len(validate_manifest(m))
    want = 1537 + disj_len(3)
    results.append((f"approval 1..=3 has a 3-branch total proof: ballot length {want}", None if got == want else f"got {got}"))
    pk, msg, sig = (bytes.fromhex(x) for x in r255.RFC8032_TESTS[1])
    s = int.from_bytes(sig[32:], "little")
    p_plus_1 = (r255.p + 1).to_bytes(32, "little")
    for what, args, want in (
        ("s + ℓ", (pk, msg, sig[:32] + (s + L).to_bytes(32, "little")), "non-canonical s"),
        ("identity key", (bytes([1]) + bytes(31), msg, sig), "small-order key"),
        ("identity R", (pk, msg, bytes([1]) + bytes(31) + sig[32:]), "small-order R"),
        ("R with y = p + 1", (pk, msg, p_plus_1 + sig[32:]), "non-canonical R"),
        ("key with y = p + 1", (p_plus_1, msg, sig), "non-canonical key"),
        ("other message", (pk, msg + b"!", sig), "equation fails"),
    ):
        got = r255.ed25519_verify_strict(*args)
        results.append((f"Ed25519 refuses {what}: {want}", None if got == want else f"got {got!r}"))
    return results


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def line(ok, text):
    print(f"  {'ok  ' if ok else 'FAIL'}  {text}")


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    unknown = flags - {"--self-test", "--transcript", "--help"}
    if "--help" in flags and not unknown:
        print(__doc__.strip())
        return 0
    if unknown or len(args) > 1:
        print(__doc__.strip(), file=sys.stderr)
        print(f"error: unexpected arguments {sorted(unknown) or args[1:]}", file=sys.stderr)
        return 2
    path = args[0] if args else DEFAULT_VECTORS
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"error: cannot read the vectors {path}: {e}", file=sys.stderr)
        return 2
    start = time.monotonic()
    failures = []

    print("primitives")
    for name, failure in r255.known_answer_tests():
        line(failure is None, name + (f": {failure}" if failure else ""))
        if failure:
            failures.append(f"primitives: {name}: {failure}")
    h_ok = doc.get("generator_h") == r255.H_BYTES.hex()
    line(h_ok, f"generator H = {r255.H_BYTES.hex()[:16]}… (§3.2) matches generator_h")
    if not h_ok:
        failures.append("generator H differs from generator_h")

    if "--self-test" in flags:
        failures += self_test(doc)
    else:
        for v in doc["vectors"]:
            log = [] if "--transcript" in flags else None
            report = verify_vector(v, log=log)
            print(f"vector {v['name']}")
            for key, description, failure in report.checks:
                line(failure is None, description + (f": {failure}" if failure else ""))
                if failure:
                    failures.append(f"vector {v['name']}: {description}: {failure}")
            if log is not None:
                print(f"  transcript of {v['name']} ({len(log)} operations):")
                for label, value in log:
                    print(f"    {label:<14} {value}")
            bad = report.failed()
            print(f"vector {v['name']}: {'all ' + str(len(report.checks)) + ' checks passed' if not bad else 'REJECTED'}")

    elapsed = time.monotonic() - start
    what = "self-test" if "--self-test" in flags else "reference verifier"
    if failures:
        print(f"{what}: FAILED ({len(failures)} failure(s), {elapsed:.1f} s)", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(f"{what}: {len(doc['vectors'])} vectors, everything passed ({elapsed:.1f} s)")
    return 0


def short(text, width=90):
    return text if len(text) <= width else text[: width - 1] + "…"


def self_test(doc):
    failures = []
    print("self-test: rejections without a vector")
    for name, failure in unit_self_tests():
        line(failure is None, name + (f": {failure}" if failure else ""))
        if failure:
            failures.append(f"self-test: {name}: {failure}")
    for v in doc["vectors"]:
        print(f"self-test: vector {v['name']}: each change must be rejected, by exactly the expected checks")
        honest = verify_vector(v)
        if honest.failed():
            failures.append(f"self-test: vector {v['name']} does not verify unchanged: {sorted(honest.failed())}")
            line(False, "unchanged vector verifies")
            continue
        for description, ballot, manifest, th, expected in mutations(v):
            report = verify_vector(v, ballot=ballot, manifest=manifest, transcript_hash=th)
            got = report.failed()
            reasons = "; ".join(
                f"{k}: {short(f)}" for k, _, f in report.checks if f and k not in ("tracking", "refused")
            )
            if expected == "refused":
                ok = "refused" in got
                want = "a decoding refusal"
            else:
                ok = got == expected
                want = f"exactly {sorted(expected)}"
            if not got:
                ok = False
            text = f"{description} → rejected ({reasons})" if ok else f"{description}: expected {want}, got {sorted(got) or 'ACCEPTED'} ({reasons})"
            line(ok, text)
            if not ok:
                failures.append(f"self-test: vector {v['name']}: {text}")
    return failures


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
