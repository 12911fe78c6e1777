"""Group arithmetic and transcripts for the reference verifier (spec/crypto.md §1–§5).

Written from the specifications it names, not from Tabella's Rust code:

- Edwards25519 field and point arithmetic (RFC 7748 / RFC 8032 curve, extended coordinates);
- ristretto255 decoding, encoding, equality and the one-way map (RFC 9496 §4);
- Ed25519 strict verification (RFC 8032 §5.1.7, cofactorless, with the extra refusals of
  spec/credentials.md §4 and §5.2);
- Keccak-f[1600], STROBE-128 (v1.0.2) as merlin uses it, and merlin 3.0 transcripts (spec §5.1).

Pure Python 3.11 standard library. Variable time throughout: it only ever handles public data.
"""

import hashlib

# ---------------------------------------------------------------------------------------------
# Field and group constants
# ---------------------------------------------------------------------------------------------

p = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # ℓ, the prime group order


def inv(x):
    return pow(x, p - 2, p)


D = (-121665 * inv(121666)) % p
D2 = 2 * D % p
SQRT_M1 = pow(2, (p - 1) // 4, p)
SQRT_AD_MINUS_ONE = 25063068953384623474111414158702152701244531502492656460079210482610430750235
INVSQRT_A_MINUS_D = 54469307008909316920995813868745141605393597292927456921205312896311721017578
ONE_MINUS_D_SQ = 1159843021668779879193775521855586647937357759715417654439879720876111806838
D_MINUS_ONE_SQ = 40440834346308536858101042469323190826248399146238708352240133220865137265952
assert SQRT_M1 * SQRT_M1 % p == p - 1
assert SQRT_AD_MINUS_ONE**2 % p == (-D - 1) % p
assert (INVSQRT_A_MINUS_D**2 * (-1 - D)) % p == 1
assert ONE_MINUS_D_SQ == (1 - D * D) % p and D_MINUS_ONE_SQ == (D - 1) ** 2 % p


def is_negative(x):
    return x % p & 1 == 1


def ct_abs(x):
    return (-x) % p if is_negative(x) else x % p


def sqrt_ratio_m1(u, v):
    """RFC 9496 §4.2 SQRT_RATIO_M1: (was_square, the non-negative root of u/v or of i·u/v)."""
    u %= p
    v %= p
    r = (u * pow(v, 3, p)) * pow(u * pow(v, 7, p), (p - 5) // 8, p) % p
    check = v * r * r % p
    correct = check == u
    flipped = check == (-u) % p
    flipped_i = check == (-u * SQRT_M1) % p
    if flipped or flipped_i:
        r = r * SQRT_M1 % p
    return (correct or flipped), ct_abs(r)


# ---------------------------------------------------------------------------------------------
# Edwards25519 points, extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, xy = T/Z
# ---------------------------------------------------------------------------------------------

IDENTITY = (0, 1, 1, 0)


def add(P, Q):
    """Unified addition for a = −1 (add-2008-hwcd-3)."""
    X1, Y1, Z1, T1 = P
    X2, Y2, Z2, T2 = Q
    A = (Y1 - X1) * (Y2 - X2) % p
    B = (Y1 + X1) * (Y2 + X2) % p
    C = T1 * D2 % p * T2 % p
    DD = 2 * Z1 * Z2 % p
    E, F, G, H = B - A, DD - C, DD + C, B + A
    return (E * F % p, G * H % p, F * G % p, E * H % p)


def double(P):
    """Doubling for a = −1 (dbl-2008-hwcd)."""
    X1, Y1, Z1, _ = P
    A = X1 * X1 % p
    B = Y1 * Y1 % p
    C = 2 * Z1 * Z1 % p
    H = A + B
    E = H - (X1 + Y1) ** 2
    G = A - B
    F = C + G
    return (E * F % p, G * H % p, F * G % p, E * H % p)


def neg(P):
    return ((-P[0]) % p, P[1], P[2], (-P[3]) % p)


def sub(P, Q):
    return add(P, neg(Q))


def mul_exact(k, P):
    """k·P on the curve, no reduction of k (for Ed25519, where torsion matters)."""
    assert k >= 0
    R = IDENTITY
    for bit in bin(k)[2:] if k else "":
        R = double(R)
        if bit == "1":
            R = add(R, P)
    return R


def msm(pairs):
    """Σ k_i·P_i for ristretto255 elements (scalars reduced mod ℓ): 4-bit windows, shared doublings."""
    pairs = [(k % L, P) for k, P in pairs]
    pairs = [(k, P) for k, P in pairs if k]
    if not pairs:
        return IDENTITY
    tables = []
    for _, P in pairs:
        t = [IDENTITY, P]
        for _ in range(14):
            t.append(add(t[-1], P))
        tables.append(t)
    top = max(k.bit_length() for k, _ in pairs)
    R = IDENTITY
    for w in range((top + 3) // 4 - 1, -1, -1):
        R = double(double(double(double(R))))
        for (k, _), t in zip(pairs, tables):
            digit = (k >> (4 * w)) & 15
            if digit:
                R = add(R, t[digit])
    return R


def mul(k, P):
    return msm([(k, P)])


def edwards_eq(P, Q):
    """Exact equality of curve points."""
    return (P[0] * Q[2] - Q[0] * P[2]) % p == 0 and (P[1] * Q[2] - Q[1] * P[2]) % p == 0


# ---------------------------------------------------------------------------------------------
# ristretto255 (RFC 9496 §4.3)
# ---------------------------------------------------------------------------------------------


def decode(b):
    """RFC 9496 §4.3.1 Decode: a point, or None for every non-canonical or invalid string."""
    if len(b) != 32:
        return None
    s = int.from_bytes(b, "little")
    if s >= p or is_negative(s):
        return None
    ss = s * s % p
    u1 = (1 - ss) % p
    u2 = (1 + ss) % p
    u2_sqr = u2 * u2 % p
    v = (-(D * u1 * u1) - u2_sqr) % p
    was_square, invsqrt = sqrt_ratio_m1(1, v * u2_sqr)
    den_x = invsqrt * u2 % p
    den_y = invsqrt * den_x * v % p
    x = ct_abs(2 * s * den_x)
    y = u1 * den_y % p
    t = x * y % p
    if not was_square or is_negative(t) or y == 0:
        return None
    return (x, y, 1, t)


def encode(P):
    """RFC 9496 §4.3.2 Encode: the canonical 32 bytes."""
    x0, y0, z0, t0 = P
    u1 = (z0 + y0) * (z0 - y0) % p
    u2 = x0 * y0 % p
    _, invsqrt = sqrt_ratio_m1(1, u1 * u2 * u2)
    den1 = invsqrt * u1 % p
    den2 = invsqrt * u2 % p
    z_inv = den1 * den2 * t0 % p
    ix0 = x0 * SQRT_M1 % p
    iy0 = y0 * SQRT_M1 % p
    enchanted_denominator = den1 * INVSQRT_A_MINUS_D % p
    rotate = is_negative(t0 * z_inv)
    if rotate:
        x, y, den_inv = iy0, ix0, enchanted_denominator
    else:
        x, y, den_inv = x0, y0, den2
    if is_negative(x * z_inv):
        y = (-y) % p
    s = ct_abs(den_inv * (z0 - y))
    return s.to_bytes(32, "little")


def eq(P, Q):
    """RFC 9496 §4.5 equality of ristretto255 elements."""
    return (P[0] * Q[1] - P[1] * Q[0]) % p == 0 or (P[1] * Q[1] - P[0] * Q[0]) % p == 0


def is_identity(P):
    return eq(P, IDENTITY)


def elligator(t):
    """RFC 9496 §4.3.4 MAP."""
    r = SQRT_M1 * t * t % p
    u = (r + 1) * ONE_MINUS_D_SQ % p
    v = ((-1 - r * D) * (r + D)) % p
    was_square, s = sqrt_ratio_m1(u, v)
    s_prime = (-ct_abs(s * t)) % p
    s = s if was_square else s_prime
    c = p - 1 if was_square else r
    N = (c * (r - 1) * D_MINUS_ONE_SQ - v) % p
    w0 = 2 * s * v % p
    w1 = N * SQRT_AD_MINUS_ONE % p
    w2 = (1 - s * s) % p
    w3 = (1 + s * s) % p
    return (w0 * w3 % p, w2 * w1 % p, w1 * w3 % p, w0 * w2 % p)


def from_uniform_bytes(b):
    """RFC 9496 §4.3.4 one-way map of 64 bytes."""
    assert len(b) == 64
    t1 = (int.from_bytes(b[:32], "little") & ((1 << 255) - 1)) % p
    t2 = (int.from_bytes(b[32:], "little") & ((1 << 255) - 1)) % p
    return add(elligator(t1), elligator(t2))


# Scalars (spec §2.2)


def decode_scalar(b):
    """A canonical scalar, or None."""
    if len(b) != 32:
        return None
    v = int.from_bytes(b, "little")
    return v if v < L else None


def scalar_bytes(s):
    return (s % L).to_bytes(32, "little")


def scalar_from_wide(b):
    return int.from_bytes(b, "little") % L


# Generators (spec §3)

G = decode(bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"))
H = from_uniform_bytes(hashlib.sha512(b"tabella/v1/generator/H").digest())
G_BYTES = encode(G)
H_BYTES = encode(H)


def bulletproof_generators(label, party, count):
    """bulletproofs' chain(label ‖ u32_le(party)): SHAKE256("GeneratorsChain" ‖ …), 64-byte blocks."""
    stream = hashlib.shake_256(b"GeneratorsChain" + label + party.to_bytes(4, "little")).digest(64 * count)
    return [from_uniform_bytes(stream[64 * i : 64 * i + 64]) for i in range(count)]


# ---------------------------------------------------------------------------------------------
# Ed25519, strict (RFC 8032 §5.1.3 decoding, §5.1.7 verification; spec/credentials.md §4, §5.2)
# ---------------------------------------------------------------------------------------------



def ed_decode(b):
    """RFC 8032 §5.1.3, canonical only: y < p, and no x = 0 with the sign bit set. None if refused."""
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= p:
        return None
    u = (y * y - 1) % p
    v = (D * y * y + 1) % p
    x = u * pow(v, 3, p) * pow(u * pow(v, 7, p), (p - 5) // 8, p) % p
    vxx = v * x * x % p
    if vxx == u:
        pass
    elif vxx == (-u) % p:
        x = x * SQRT_M1 % p
    else:
        return None
    if x == 0 and sign == 1:
        return None
    if x & 1 != sign:
        x = p - x
    return (x, y, 1, x * y % p)


# The Ed25519 base point B: y = 4/5, x positive (RFC 8032 §5.1).
ED_B = ed_decode(bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666"))
assert ED_B is not None and ED_B[1] == 4 * inv(5) % p and not is_negative(ED_B[0])


def ed_small_order(P):
    """Whether 8·P is the identity (the identity and the 7 other torsion points)."""
    Q = double(double(double(P)))
    return edwards_eq(Q, IDENTITY)


def ed25519_verify_strict(public, message, signature):
    """None if the signature is valid, else the reason it is refused.

    Refuses: a non-canonical or small-order key A, a non-canonical or small-order R, s ≥ ℓ; then
    checks [s]B = R + [k]A exactly (cofactorless), k = SHA-512(R ‖ A ‖ M) mod ℓ.
    """
    if len(public) != 32 or len(signature) != 64:
        return "wrong length"
    A = ed_decode(public)
    if A is None:
        return "non-canonical key"
    if ed_small_order(A):
        return "small-order key"
    R = ed_decode(signature[:32])
    if R is None:
        return "non-canonical R"
    if ed_small_order(R):
        return "small-order R"
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return "non-canonical s"
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    if not edwards_eq(mul_exact(s, ED_B), add(R, mul_exact(k, A))):
        return "equation fails"
    return None


# ---------------------------------------------------------------------------------------------
# Keccak-f[1600], STROBE-128, merlin (spec §5.1)
# ---------------------------------------------------------------------------------------------

_RC = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]
_ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]
_M64 = (1 << 64) - 1


def _rol(x, n):
    return ((x << n) | (x >> (64 - n))) & _M64 if n else x


def keccak_f(state):
    """Keccak-f[1600] on 200 bytes (lanes little-endian, lane (x, y) at offset 8·(x + 5y))."""
    A = [[int.from_bytes(state[8 * (x + 5 * y) : 8 * (x + 5 * y) + 8], "little") for y in range(5)] for x in range(5)]
    for rc in _RC:
        C = [A[x][0] ^ A[x][1] ^ A[x][2] ^ A[x][3] ^ A[x][4] for x in range(5)]
        Dd = [C[(x - 1) % 5] ^ _rol(C[(x + 1) % 5], 1) for x in range(5)]
        A = [[A[x][y] ^ Dd[x] for y in range(5)] for x in range(5)]
        B = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                B[y][(2 * x + 3 * y) % 5] = _rol(A[x][y], _ROT[x][y])
        A = [[B[x][y] ^ ((~B[(x + 1) % 5][y]) & B[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]
        A[0][0] ^= rc
    out = bytearray(200)
    for x in range(5):
        for y in range(5):
            out[8 * (x + 5 * y) : 8 * (x + 5 * y) + 8] = A[x][y].to_bytes(8, "little")
    return out


_STROBE_R = 166  # rate of STROBE-128 over Keccak-f[1600]: 200 − 2·(128/8) − 2
_FLAG_I, _FLAG_A, _FLAG_C, _FLAG_T, _FLAG_M, _FLAG_K = 1, 2, 4, 8, 16, 32


class Strobe128:
    """The subset of STROBE v1.0.2 merlin uses: meta-AD, AD, PRF."""

    def __init__(self, protocol_label):
        st = bytearray(200)
        st[0:6] = bytes([1, _STROBE_R + 2, 1, 0, 1, 96])
        st[6:18] = b"STROBEv1.0.2"
        self.state = keccak_f(st)
        self.pos = 0
        self.pos_begin = 0
        self.cur_flags = 0
        self.meta_ad(protocol_label, False)

    def _run_f(self):
        self.state[self.pos] ^= self.pos_begin
        self.state[self.pos + 1] ^= 0x04
        self.state[_STROBE_R + 1] ^= 0x80
        self.state = keccak_f(self.state)
        self.pos = 0
        self.pos_begin = 0

    def _absorb(self, data):
        for byte in data:
            self.state[self.pos] ^= byte
            self.pos += 1
            if self.pos == _STROBE_R:
                self._run_f()

    def _squeeze(self, n):
        out = bytearray()
        for _ in range(n):
            out.append(self.state[self.pos])
            self.state[self.pos] = 0
            self.pos += 1
            if self.pos == _STROBE_R:
                self._run_f()
        return bytes(out)

    def _begin_op(self, flags, more):
        if more:
            assert self.cur_flags == flags
            return
        old_begin = self.pos_begin
        self.pos_begin = self.pos + 1
        self.cur_flags = flags
        self._absorb([old_begin, flags])
        if flags & (_FLAG_C | _FLAG_K) and self.pos != 0:  # C or K forces a permutation
            self._run_f()

    def meta_ad(self, data, more):
        self._begin_op(_FLAG_M | _FLAG_A, more)
        self._absorb(data)

    def ad(self, data, more):
        self._begin_op(_FLAG_A, more)
        self._absorb(data)

    def prf(self, n, more):
        self._begin_op(_FLAG_I | _FLAG_A | _FLAG_C, more)
        return self._squeeze(n)


class Transcript:
    """merlin 3.0 transcript; optionally logs every operation as (label, description)."""

    def __init__(self, label, log=None):
        self.strobe = Strobe128(b"Merlin v1.0")
        self.log = log
        self.append_message(b"dom-sep", label)

    def append_message(self, label, message):
        if self.log is not None:
            shown = message.hex() if len(message) <= 32 else message[:32].hex() + "…"
            self.log.append((label.decode(), f"{len(message):>2} bytes  {shown}"))
        self.strobe.meta_ad(label, False)
        self.strobe.meta_ad(len(message).to_bytes(4, "little"), True)
        self.strobe.ad(message, False)

    def append_u64(self, label, n):
        self.append_message(label, n.to_bytes(8, "little"))

    def challenge_bytes(self, label, n):
        if self.log is not None:
            self.log.append((label.decode(), f"→ challenge of {n} bytes"))
        self.strobe.meta_ad(label, False)
        self.strobe.meta_ad(n.to_bytes(4, "little"), True)
        return self.strobe.prf(n, False)

    # Tabella's operations (spec §5.2)

    def domain_sep(self, label, param):
        self.append_message(b"dom-sep", label)
        self.append_u64(b"param", param)

    def append_point_nonidentity(self, label, raw):
        """validate_and_append_point: the all-zero encoding (the identity) is refused."""
        if raw == bytes(32):
            raise ValueError(f"identity point `{label.decode()}`")
        self.append_message(label, raw)

    def append_scalar(self, label, s):
        self.append_message(label, scalar_bytes(s))

    def challenge_scalar(self, label):
        c = scalar_from_wide(self.challenge_bytes(label, 64))
        if self.log is not None:
            self.log[-1] = (label.decode(), f"→ challenge scalar {scalar_bytes(c).hex()}")
        return c


# ---------------------------------------------------------------------------------------------
# Known-answer tests of the primitives
# ---------------------------------------------------------------------------------------------

# RFC 9496 A.1: i·B for i = 0 … 15.
RFC9496_MULTIPLES = """
0000000000000000000000000000000000000000000000000000000000000000
e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76
6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919
94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259
da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57
e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e
f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403
44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d
903293d8f2287ebe10e2374dc1a53e0bc887e592699f02d077d5263cdd55601c
02622ace8f7303a31cafc63f8fc48fdc16e1c8c8d234b2f0d6685282a9076031
20706fd788b2720a1ed2a5dad4952b01f413bcf0e7564de8cdc816689e2db95f
bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42
e4549ee16b9aa03099ca208c67adafcafa4c3f3e4e5303de6026e3ca8ff84460
aa52e000df2e16f55fb1032fc33bc42742dad6bd5a8fc0be0167436c5948501f
46376b80f409b29dc2b5f6f0c52591990896e5716f41477cd30085ab7f10301e
e0c418f7c8d9c4cdd7395b93ea124f3ad99021bb681dfc3302a9d99a2e53e64e
""".split()

# RFC 9496 A.2: encodings every decoder must refuse.
RFC9496_INVALID = """
00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
0100000000000000000000000000000000000000000000000000000000000000
01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20
c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562
c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78
47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24
f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72
87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309
26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371
4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f
de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b
bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042
2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08
f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22
8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731
2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b
3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e
a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220
d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e
8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32
32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b
227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165
5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e
445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b
ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
""".split()

# RFC 8032 §7.1, tests 1–3: (public key, message, signature).
RFC8032_TESTS = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


def known_answer_tests():
    """Runs the primitives' known-answer tests; returns [(name, None or failure)]."""
    results = []

    def check(name, fn):
        try:
            failure = fn()
        except Exception as e:  # a crash is a failure, with its reason
            failure = f"{type(e).__name__}: {e}"
        results.append((name, failure))

    def keccak():
        s = bytearray(200)
        s[0] ^= 0x06
        s[135] ^= 0x80
        if bytes(keccak_f(s)[:32]) != hashlib.sha3_256(b"").digest():
            return "Keccak-f[1600] disagrees with hashlib's SHA3-256"
        return None

    def merlin():
        t = Transcript(b"test protocol")
        t.append_message(b"some label", b"some data")
        got = t.challenge_bytes(b"challenge", 32).hex()
        want = "d5a21972d0d5fe320c0d263fac7fffb8145aa640af6e9bca177c03c7efcf0615"
        return None if got == want else f"merlin test vector: {got}"

    def multiples():
        P = IDENTITY
        for i, want in enumerate(RFC9496_MULTIPLES):
            if encode(P).hex() != want:
                return f"encode({i}·B)"
            Q = decode(bytes.fromhex(want))
            if Q is None or not eq(Q, P) or encode(Q).hex() != want:
                return f"decode({i}·B)"
            if not eq(mul(i, G), P):
                return f"mul({i}, B)"
            P = add(P, G)
        return None

    def invalid():
        for i, bad in enumerate(RFC9496_INVALID):
            if decode(bytes.fromhex(bad)) is not None:
                return f"invalid encoding #{i} {bad} decoded"
        return None

    def ed25519():
        for i, (pk, msg, sig) in enumerate(RFC8032_TESTS, 1):
            reason = ed25519_verify_strict(bytes.fromhex(pk), bytes.fromhex(msg), bytes.fromhex(sig))
            if reason is not None:
                return f"RFC 8032 test {i}: {reason}"
        return None

    check("Keccak-f[1600] against SHA3-256", keccak)
    check("merlin 3.0 test vector", merlin)
    check("ristretto255 RFC 9496 A.1 (0·B … 15·B)", multiples)
    check("ristretto255 RFC 9496 A.2 (29 invalid encodings refused)", invalid)
    check("Ed25519 RFC 8032 §7.1 tests 1–3", ed25519)
    return results
