"""Redemption codes: generation, display and normalisation (pure functions, no database).

Format
------
A redemption code is 13 symbols of Crockford base32 (``0123456789ABCDEFGHJKMNPQRSTVWXYZ``;
no I, L, O or U):

* symbols 1-12: the payload, 60 random bits from :mod:`secrets` written as exactly 12 base32
  digits (most significant first, left-padded with ``0``);
* symbol 13: Crockford's check symbol, the payload value modulo 37.

The *canonical* form is the 13 symbols with no separators; it is what gets stored (a unique,
13-character column) and compared. The *display* form groups it 4-4-5 with dashes for reading
aloud, e.g. ``7Q2M-ZK4D-XR920`` (the check symbol is the last character of the last group).

Check symbol
------------
Crockford's check alphabet has 37 values: the 32 symbols above plus ``*~$=U`` for 32..36. Those
five are hard to read aloud or type, so :func:`code_generate` redraws any payload whose check
value is 32 or more; every issued code therefore uses only the 32-symbol alphabet. Verification
still works modulo 37, a prime larger than 32, which is what guarantees that every
single-symbol substitution and every adjacent transposition is detected (proof in
``docs/redemption-codes.md``).

Entropy
-------
The redraw keeps 32 of every 37 payload values, so a code carries
``log2(#{n < 2**60 : n % 37 < 32})`` = 60 - log2(37/32) ≈ 59.79 bits (:data:`ENTROPY_BITS`).
The check symbol adds no entropy: it is a function of the payload.

Normalisation
-------------
:func:`code_normalise` / :func:`code_check` accept what people type: any case, spaces, tabs,
dashes, underscores, and the look-alikes I/L -> 1 and O -> 0. ``U`` is not a symbol and is
rejected. Anything else is rejected without raising.
"""

from __future__ import annotations

import enum
import math
import secrets

import base32_crockford

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""The 32 Crockford base32 symbols; every issued code uses only these."""

PAYLOAD_BITS = 60
PAYLOAD_LENGTH = 12  # 32**12 == 2**60: 12 symbols hold exactly the 60 random bits.
CODE_LENGTH = PAYLOAD_LENGTH + 1
"""Length of the canonical form: 12 payload symbols and 1 check symbol."""

DISPLAY_GROUPS = (4, 4, 5)
"""Group sizes of the display form; they add up to :data:`CODE_LENGTH`."""

CHECK_MODULUS = 37  # Crockford's check base; kept here only to compute the entropy below.

# Exact count of the payload values that survive the redraw (check value < 32), so the entropy
# figure is computed rather than copied; it equals 60 + log2(32/37) to float precision.
_ACCEPTED_PAYLOADS = sum(len(range(residue, 2**PAYLOAD_BITS, CHECK_MODULUS)) for residue in range(len(ALPHABET)))
ENTROPY_BITS: float = math.log2(_ACCEPTED_PAYLOADS)
"""Bits of entropy in a generated code: 60 - log2(37/32) ≈ 59.7905."""

# Anything longer cannot be a code even with generous separators; refuse before any work so
# hostile input costs nothing.
MAX_INPUT_LENGTH = 64

# Separators people type or paste: ASCII only. Non-ASCII input is rejected outright, because
# str.upper() turns some non-ASCII letters into valid symbols ("ß" -> "SS", U+017F -> "S").
_SEPARATORS = str.maketrans("", "", " \t\r\n-_")
_ALPHABET_SET = frozenset(ALPHABET)

assert sum(DISPLAY_GROUPS) == CODE_LENGTH
assert len(ALPHABET) ** PAYLOAD_LENGTH == 2**PAYLOAD_BITS
assert base32_crockford.symbols == ALPHABET  # the library and this module agree on the alphabet


class CodeProblem(enum.Enum):
    """Why a piece of text is not a valid redemption code.

    The API reports both as one error; the distinction is for logs (a high share of
    ``CHECK_FAILED`` hints at guessing, ``MALFORMED`` at a UI or copy-paste problem).
    """

    MALFORMED = "malformed"
    """Wrong length, or a character outside the alphabet after normalisation."""

    CHECK_FAILED = "check_failed"
    """Well-formed, but the check symbol does not match the payload (a typo, or a guess)."""


def code_generate() -> str:
    """Return a new random redemption code in canonical form.

    Shape: 13 characters from :data:`ALPHABET`, no separators; the last is the check symbol.
    Randomness comes from :func:`secrets.randbits` only. Uniqueness is not checked here: the
    caller stores it in a unique column (a collision among a million codes has odds of about
    5e-7, so retrying on an integrity error is enough).
    """
    while True:
        payload = secrets.randbits(PAYLOAD_BITS)
        encoded = base32_crockford.encode(payload, checksum=True)
        check = encoded[-1]
        # Redraw when the check value is 32..36 (symbols *~$=U): unreadable aloud. Each draw is
        # accepted with probability 32/37, so the loop ends after 1.16 draws on average.
        if check in _ALPHABET_SET:
            return encoded[:-1].rjust(PAYLOAD_LENGTH, "0") + check


def code_display(canonical: str) -> str:
    """Return the display form of a canonical code: groups of 4-4-5 joined by dashes.

    ``"7Q2MZK4DXR920"`` -> ``"7Q2M-ZK4D-XR920"``. The input is expected to be canonical (as
    stored or as returned by :func:`code_normalise`); a ``ValueError`` is raised if it is not
    13 characters long, so a wrong value is not silently displayed.
    """
    if len(canonical) != CODE_LENGTH:
        raise ValueError(f"a canonical code has {CODE_LENGTH} characters, got {len(canonical)}")
    groups = []
    start = 0
    for size in DISPLAY_GROUPS:
        groups.append(canonical[start : start + size])
        start += size
    return "-".join(groups)


def code_check(text: str) -> tuple[str | None, CodeProblem | None]:
    """Normalise ``text`` and say whether it is a valid redemption code, and if not, why.

    Returns ``(canonical, None)`` for a valid code and ``(None, problem)`` otherwise.
    Normalisation strips spaces, tabs, line breaks, dashes and underscores, upper-cases, and maps
    I/L -> 1 and O -> 0. The result is valid when it has 13 symbols, all in :data:`ALPHABET`
    (so ``U`` and Crockford's extra check symbols ``*~$=`` are rejected everywhere), and the
    check symbol equals the payload value modulo 37.

    Never raises: non-strings, input over 64 characters and non-ASCII input are
    :attr:`CodeProblem.MALFORMED`.
    """
    if not isinstance(text, str) or len(text) > MAX_INPUT_LENGTH:
        return None, CodeProblem.MALFORMED
    compact = text.translate(_SEPARATORS)
    # The length test here is only a cheap early exit; the real one follows normalisation.
    if len(compact) != CODE_LENGTH or not compact.isascii():
        return None, CodeProblem.MALFORMED
    try:
        # Upper-cases and maps I/i/L/l -> 1, O/o -> 0. It also lets a trailing *~$=U through as
        # a check symbol, and (regex "$") a trailing newline: hence the alphabet test below.
        canonical = base32_crockford.normalize(compact)
    except ValueError:
        return None, CodeProblem.MALFORMED
    if len(canonical) != CODE_LENGTH or not _ALPHABET_SET.issuperset(canonical):
        return None, CodeProblem.MALFORMED
    try:
        # With checksum=True the last symbol is verified against the payload value mod 37.
        base32_crockford.decode(canonical, checksum=True)
    except ValueError:
        return None, CodeProblem.CHECK_FAILED
    return canonical, None


def code_normalise(text: str) -> str | None:
    """Return the canonical 13-symbol form of ``text`` if it is a valid code, else ``None``.

    Same rules as :func:`code_check` (which also says why a code is rejected); never raises.
    ``"7q2m zk4d-xr92o"`` -> ``"7Q2MZK4DXR920"`` if its check symbol verifies.
    """
    canonical, _problem = code_check(text)
    return canonical
