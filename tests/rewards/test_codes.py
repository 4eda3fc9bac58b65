"""Redemption-code format: generation, display, normalisation and the check symbol's guarantees.

Pure functions: no database. The detection tests are exhaustive per code (every position and
every other symbol; every adjacent pair), because "catches every single typo and every adjacent
transposition" is the property the product issue asks for.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewards import codes
from rewards.codes import (
    ALPHABET,
    CODE_LENGTH,
    ENTROPY_BITS,
    CodeProblem,
    code_check,
    code_display,
    code_generate,
    code_normalise,
)

# Seeded so a failure is reproducible; the detection property must hold for every code anyway.
_rng = random.Random(20240611)


def _value(symbols: str) -> int:
    """The integer a string of base32 symbols stands for (independent of the module under test)."""
    number = 0
    for symbol in symbols:
        number = number * 32 + ALPHABET.index(symbol)
    return number


def _valid_code(rng: random.Random) -> str:
    """A valid canonical code drawn from ``rng``, built without the module under test."""
    while True:
        payload = rng.getrandbits(60)
        if payload % 37 < 32:
            break
    body = "".join(ALPHABET[(payload >> (5 * shift)) & 31] for shift in reversed(range(12)))
    return body + ALPHABET[payload % 37]


# A few hundred codes for the exhaustive tests: half drawn by the module, half independently
# (so a bug shared by the generator and the checker cannot hide), plus the edge payloads.
DETECTION_CODES = (
    [code_generate() for _ in range(150)]
    + [_valid_code(_rng) for _ in range(150)]
    + ["0000000000000", "ZZZZZZZZZZZZ" + ALPHABET[(32**12 - 1) % 37]]
)


# --- generation ---------------------------------------------------------------------------------


def test_generated_code_shape_and_check():
    for _ in range(2_000):
        code = code_generate()
        assert len(code) == CODE_LENGTH == 13
        assert set(code) <= set(ALPHABET)
        # The check symbol is the payload value mod 37, and always one of the 32 symbols.
        assert ALPHABET.index(code[-1]) == _value(code[:-1]) % 37
        assert code_check(code) == (code, None)


def test_generated_code_round_trips_through_display_and_normalise():
    for _ in range(1_000):
        code = code_generate()
        shown = code_display(code)
        assert code_normalise(shown) == code
        assert code_normalise(shown.lower()) == code


def test_ten_thousand_generated_codes_are_unique():
    generated = {code_generate() for _ in range(10_000)}
    assert len(generated) == 10_000


def test_generator_redraws_payloads_whose_check_is_not_in_the_alphabet(monkeypatch):
    # 7Q2MZK4DXR90 has check value 35 ("="), 7Q2MZK4DXR91 has 36 ("U"): both must be redrawn.
    draws = iter([_value("7Q2MZK4DXR90"), _value("7Q2MZK4DXR91"), _value("7Q2MZK4DXR92")])
    calls = []

    def fake_randbits(k):
        calls.append(k)
        return next(draws)

    monkeypatch.setattr(codes.secrets, "randbits", fake_randbits)
    assert code_generate() == "7Q2MZK4DXR920"
    assert calls == [60, 60, 60]


def test_generator_left_pads_small_payloads(monkeypatch):
    monkeypatch.setattr(codes.secrets, "randbits", lambda k: 1)
    assert code_generate() == "0000000000011"
    monkeypatch.setattr(codes.secrets, "randbits", lambda k: 0)
    assert code_generate() == "0000000000000"


def test_generator_uses_all_positions_and_symbols():
    # Cheap sanity check against a biased encoder (e.g. a stuck leading symbol).
    sample = [code_generate() for _ in range(3_000)]
    for position in range(CODE_LENGTH):
        assert len({code[position] for code in sample}) == 32


# --- display ------------------------------------------------------------------------------------


def test_display_groups_4_4_5():
    assert code_display("7Q2MZK4DXR920") == "7Q2M-ZK4D-XR920"


@pytest.mark.parametrize("bad", ["", "7Q2MZK4DXR92", "7Q2MZK4DXR9200"])
def test_display_rejects_non_canonical_length(bad):
    with pytest.raises(ValueError):
        code_display(bad)


# --- normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "7Q2MZK4DXR920",
        "7q2mzk4dxr920",
        "7Q2M-ZK4D-XR920",
        "7q2m zk4d xr920",
        "  7Q2M ZK4D-XR920\n",
        "7Q2M_ZK4D_XR920",
        "7Q2M\tZK4D\r\nXR920",
        "7-Q-2-M-Z-K-4-D-X-R-9-2-0",
        "7Q2MZK4DXR92O",  # O -> 0
        "7q2mzk4dxr92o",  # o -> 0
    ],
)
def test_normalisation_accepts_what_people_type(typed):
    assert code_normalise(typed) == "7Q2MZK4DXR920"


def test_look_alikes_map_to_one():
    code = "10ABCDEFGHJKN"  # check value 21 ("N")
    assert code_check(code) == (code, None)
    for look_alike in "IiLl":
        assert code_normalise(look_alike + code[1:]) == code
    for look_alike in "Oo":
        assert code_normalise(code[0] + look_alike + code[2:]) == code


def test_display_form_normalises_back():
    for code in DETECTION_CODES:
        assert code_normalise(code_display(code)) == code
        assert code_normalise(code_display(code).lower().replace("-", " ")) == code


# --- detection (exhaustive per code) ------------------------------------------------------------


def test_every_single_substitution_is_rejected():
    checked = 0
    for code in DETECTION_CODES:
        for position in range(CODE_LENGTH):
            for symbol in ALPHABET:
                if symbol == code[position]:
                    continue
                typo = code[:position] + symbol + code[position + 1 :]
                assert code_check(typo) == (None, CodeProblem.CHECK_FAILED), (code, typo)
                checked += 1
    assert checked == len(DETECTION_CODES) * CODE_LENGTH * 31


def test_every_adjacent_transposition_is_rejected():
    checked = 0
    for code in DETECTION_CODES:
        # Includes the pair (last payload symbol, check symbol).
        for position in range(CODE_LENGTH - 1):
            a, b = code[position], code[position + 1]
            if a == b:
                continue
            swapped = code[:position] + b + a + code[position + 2 :]
            assert code_check(swapped) == (None, CodeProblem.CHECK_FAILED), (code, swapped)
            checked += 1
    assert checked > len(DETECTION_CODES) * 10


def test_detection_holds_for_every_symbol_pair_and_position():
    # The algebraic reason, checked over the whole space rather than sampled codes: a substitution
    # shifts the value by (d'-d)*32**i and a transposition by (a-b)*31*32**i; neither is 0 mod 37.
    for i in range(12):
        for d in range(32):
            for d2 in range(32):
                if d != d2:
                    assert (d2 - d) * 32**i % 37 != 0
                    assert (d - d2) * 31 * 32**i % 37 != 0
                    # Also claimed in the docs: jump transpositions and twin errors in the payload.
                    assert (d - d2) * (32**2 - 1) * 32**i % 37 != 0
                    assert (d - d2) * 33 * 32**i % 37 != 0


# --- hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "-",
        "-" * 64,
        "None",
        "null",
        "undefined",
        "0",
        "7Q2MZK4DXR92",  # one short
        "7Q2MZK4DXR9200",  # one long
        "7Q2MZK4DXR920" * 2,
        "UQ2MZK4DXR920",  # U is not a symbol, in payload position
        "7Q2MZK4DXRU20",
        "7Q2MZK4DXR90=",  # Crockford's own check symbol for this payload: never issued, rejected
        "7Q2MZK4DXR91U",  # same, with the "U" check symbol
        "7Q2MZK4DXR92*",
        "7Q2MZK4DXR92\x00",
        "\x007Q2MZK4DXR920",
        "7Q2MZK4DXR920\x00",
        "7Q2M.ZK4D.XR920",
        "7Q2M/ZK4D/XR920",
        "7Q2MZK4DXR92\v0",  # vertical tab is not a separator
        "7Q2MZK4DXR9\uff120",  # fullwidth digit two
        "7Q2MZK4DXR92\u00a0",
        "ßß2MZK4DXR920",  # str.upper() turns "ß" into "SS"
        "\u017f7Q2MZK4DXR92",  # ... and U+017F (long s) into "S"
        "".join(chr(ord(c) + 0xFEE0) for c in "7Q2MZK4DXR920"),  # all fullwidth
        "🎁🎁🎁🎁🎁🎁🎁🎁🎁🎁🎁🎁🎁",
        "x" * 65,
        "7Q2MZK4DXR920" + " " * 60,  # a valid code buried in more than 64 characters
        "A" * 10_000,
        "-" * 10_000,
        "\U0010ffff" * 10_000,
    ],
)
def test_hostile_input_is_rejected_without_raising(text):
    canonical, problem = code_check(text)
    assert canonical is None
    assert problem is CodeProblem.MALFORMED
    assert code_normalise(text) is None


@pytest.mark.parametrize("value", [None, 1234567890123, b"7Q2MZK4DXR920", ["7Q2MZK4DXR920"]])
def test_non_strings_are_rejected_without_raising(value):
    assert code_check(value) == (None, CodeProblem.MALFORMED)
    assert code_normalise(value) is None


def test_wrong_check_is_reported_as_check_failed():
    assert code_check("7Q2MZK4DXR921") == (None, CodeProblem.CHECK_FAILED)
    assert code_check("7q2m-zk4d-xr92z") == (None, CodeProblem.CHECK_FAILED)


@settings(max_examples=2_000, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_never_raises_and_only_returns_valid_codes(text):
    canonical, problem = code_check(text)
    assert (canonical is None) != (problem is None)
    if canonical is not None:
        assert len(canonical) == CODE_LENGTH
        assert set(canonical) <= set(ALPHABET)
        assert ALPHABET.index(canonical[-1]) == _value(canonical[:-1]) % 37
    assert code_normalise(text) == canonical


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=ALPHABET + "ILOUilou-_ *~$=\n", min_size=10, max_size=20))
def test_fuzz_near_miss_alphabet(text):
    # Inputs close to real codes exercise the paths past the cheap early exits.
    canonical, problem = code_check(text)
    if canonical is not None:
        assert problem is None
        assert ALPHABET.index(canonical[-1]) == _value(canonical[:-1]) % 37
        assert "U" not in text.upper()
    else:
        assert problem in (CodeProblem.MALFORMED, CodeProblem.CHECK_FAILED)


# --- entropy ------------------------------------------------------------------------------------


def test_entropy_constant_matches_the_computation():
    assert abs(ENTROPY_BITS - (60 + math.log2(32 / 37))) < 1e-12
    assert abs(ENTROPY_BITS - 59.7905) < 1e-4
    assert ENTROPY_BITS >= 50
    # Exact count of accepted payloads: residues 0..31 of the 2**60 values mod 37.
    quotient, remainder = divmod(2**60, 37)
    accepted = 32 * quotient + min(remainder, 32)
    assert math.log2(accepted) == ENTROPY_BITS
