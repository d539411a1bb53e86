"""SIRET: 14 digits, SIRET and SIREN Luhn checksums, La Poste's digit-sum exception."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stdnum import luhn as stdnum_luhn
from stdnum.fr import siret as stdnum_siret

from guichet.rules.siret import is_valid_siret, luhn_ok, make_siret, siren_of

LA_POSTE_SIREN = "356000000"
LA_POSTE_HEAD_OFFICE = "35600000000048"


def digit_sum(number: str) -> int:
    return sum(int(digit) for digit in number)


def la_poste_luhn_valid_without_digit_sum_rule() -> str:
    """The first La Poste establishment number that Luhn accepts but the digit-sum rule refuses."""
    for establishment in range(100_000):
        candidate = f"{LA_POSTE_SIREN}{establishment:05d}"
        if (candidate != LA_POSTE_HEAD_OFFICE and stdnum_luhn.is_valid(candidate)
                and digit_sum(candidate) % 5):
            return candidate
    raise AssertionError("no such number")


@pytest.mark.parametrize(
    "siret",
    [
        "73282932000074",
        "55208131766522",
        LA_POSTE_HEAD_OFFICE,
        "35600000049837",  # La Poste establishment, digit sum 45
    ],
)
def test_is_valid_siret_known_valid_accepted(siret):
    assert is_valid_siret(siret) is True
    assert stdnum_siret.is_valid(siret) is True


def test_is_valid_siret_la_poste_head_office_luhn_valid_with_digit_sum_not_multiple_of_5():
    assert digit_sum(LA_POSTE_HEAD_OFFICE) == 26
    assert stdnum_luhn.is_valid(LA_POSTE_HEAD_OFFICE)
    assert is_valid_siret(LA_POSTE_HEAD_OFFICE) is True


def test_is_valid_siret_la_poste_establishment_digit_sum_multiple_of_5_not_luhn_accepted():
    assert digit_sum("35600000049837") == 45
    assert not stdnum_luhn.is_valid("35600000049837")
    assert is_valid_siret("35600000049837") is True


def test_is_valid_siret_la_poste_luhn_valid_but_digit_sum_not_multiple_of_5_refused():
    siret = la_poste_luhn_valid_without_digit_sum_rule()
    assert siret == "35600000000014"
    assert stdnum_luhn.is_valid(siret)
    assert digit_sum(siret) == 19
    assert is_valid_siret(siret) is False
    assert stdnum_siret.is_valid(siret) is False


@pytest.mark.parametrize(
    "siret",
    [
        "73282932000075",  # wrong SIRET check digit
        "55208131766521",  # wrong SIRET check digit
        "35600000049838",  # La Poste, digit sum 46
        "7328293200007",  # 13 digits
        "732829320000740",  # 15 digits
        "",
        "7328293200007A",  # a letter
        "73282932OOOO74",  # letter O for zero
        "7328293200007١",  # Arabic-Indic digit one
        "٧٣٢٨٢٩٣٢٠٠٠٠٧٤",  # the valid number written in Arabic-Indic digits
        "７３２８２９３２０００７４",  # the valid number in full-width digits
        "732 829 320 00074",  # spaces are not stripped here
        "+7328293200007",
    ],
)
def test_is_valid_siret_invalid_refused(siret):
    assert is_valid_siret(siret) is False


def test_is_valid_siret_luhn_valid_siret_with_invalid_siren_refused():
    # 14 digits that pass Luhn as a whole while the first 9 (the SIREN) do not.
    siret = "10000000000008"
    assert stdnum_luhn.is_valid(siret)
    assert not stdnum_luhn.is_valid(siret[:9])
    assert is_valid_siret(siret) is False


@pytest.mark.parametrize(
    ("digits", "expected"),
    [("0", True), ("18", True), ("79927398713", True), ("79927398710", False),
     ("732829320", True), ("732829321", False)],
)
def test_luhn_ok_reference_values(digits, expected):
    assert luhn_ok(digits) is expected
    assert stdnum_luhn.is_valid(digits) is expected


def fourteen_digits():
    digits = st.text(alphabet="0123456789", min_size=5, max_size=5)
    return st.one_of(
        st.text(alphabet="0123456789", min_size=14, max_size=14),
        digits.map(lambda tail: LA_POSTE_SIREN + tail),
    )


@settings(max_examples=200, deadline=None)
@given(fourteen_digits())
@example(LA_POSTE_HEAD_OFFICE)
@example("35600000000014")
@example("35600000049837")
def test_is_valid_siret_agrees_with_python_stdnum(siret):
    assert is_valid_siret(siret) is stdnum_siret.is_valid(siret)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
def test_make_siret_output_valid(siren_stem, establishment):
    siret = make_siret(siren_stem, establishment)
    assert len(siret) == 14
    assert siret.startswith(siren_stem)
    assert siret[9:13] == establishment
    assert stdnum_luhn.is_valid(siret[:9])
    assert stdnum_luhn.is_valid(siret)
    if not siret.startswith(LA_POSTE_SIREN):
        assert is_valid_siret(siret)
        assert stdnum_siret.is_valid(siret)


def test_make_siret_known_example_rebuilt():
    assert make_siret("73282932", "0007") == "73282932000074"


@pytest.mark.parametrize("siret", [
    "732829320000075",  # 15 digits whose SIREN and whole Luhn checksums hold
    "7328293200000",  # 13 digits, likewise
])
def test_is_valid_siret_luhn_valid_number_of_wrong_length_refused(siret):
    assert luhn_ok(siret)
    assert luhn_ok(siret[:9])
    assert is_valid_siret(siret) is False


def test_is_valid_siret_ascii_non_digit_that_luhn_sums_accept_refused():
    """'>' is '4' + 10 in ASCII: the byte sums of luhn_ok take it for a digit."""
    assert luhn_ok("7328293200007>")
    assert is_valid_siret("7328293200007>") is False


def test_siren_of_is_the_first_nine_digits():
    assert siren_of("73282932000074") == "732829320"
    assert siren_of(LA_POSTE_HEAD_OFFICE) == LA_POSTE_SIREN
