"""shared.domain.identifiers: every rule of GB 32100 / GB 11714 / GB 11643, every error code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shared.domain.identifiers import (
    PROVINCE_PREFIXES,
    USCC_ALPHABET,
    Identifier,
    IdentifierError,
    IdKind,
    SubjectIdentity,
    canonical_subject_id,
    compute_org_code_check,
    compute_resident_id_check,
    compute_uscc_check,
    derive_identity,
    mask,
    org_code_of_uscc,
    parse_identifier,
)
from shared.domain.vocabulary import SubjectKind

TODAY = date(2025, 6, 30)
ARCH_USCC = "91350100M000100Y43"  # ARCHITECTURE.md §4
ARCH_RESIDENT_ID = "11010519491231002X"  # ARCHITECTURE.md §4
DIGITS = "0123456789"


def make_uscc(head8: str, org_body: str) -> str:
    """A valid USCC from positions 1–8 and an 8-character organisation-code body."""
    org_code = org_body + compute_org_code_check(org_body)
    return head8 + org_code + compute_uscc_check(head8 + org_code)


def make_resident_id(first17: str) -> str:
    return first17 + compute_resident_id_check(first17)


def parse_error(raw: str, kind: IdKind | None = None) -> IdentifierError:
    with pytest.raises(IdentifierError) as caught:
        parse_identifier(raw, kind, today=TODAY)
    return caught.value


def is_valid(raw: str, kind: IdKind) -> bool:
    try:
        parse_identifier(raw, kind, today=TODAY)
    except IdentifierError:
        return False
    return True


# --- strategies ------------------------------------------------------------------

uscc_chars = st.sampled_from(USCC_ALPHABET)
provinces = st.sampled_from(sorted(PROVINCE_PREFIXES))


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    authority = draw(st.text(uscc_chars, min_size=2, max_size=2))
    region = draw(st.text(st.sampled_from(DIGITS), min_size=6, max_size=6))
    body = draw(st.text(uscc_chars, min_size=8, max_size=8))
    return make_uscc(authority + region, body)


@st.composite
def valid_resident_ids(draw: st.DrawFn) -> str:
    province = draw(provinces)
    foreigner = draw(st.booleans())
    size = 3 if foreigner else 4
    rest = draw(st.text(st.sampled_from(DIGITS), min_size=size, max_size=size))
    region = ("9" + province + rest) if foreigner else (province + rest)
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.text(st.sampled_from(DIGITS), min_size=3, max_size=3))
    return make_resident_id(region + born.strftime("%Y%m%d") + sequence)


# --- the examples of our documents -----------------------------------------------


def test_architecture_examples_are_valid() -> None:
    assert parse_identifier(ARCH_USCC) == Identifier(IdKind.USCC, ARCH_USCC)
    assert compute_uscc_check(ARCH_USCC[:17]) == "3"
    assert compute_org_code_check("M000100Y") == "4"
    assert parse_identifier(ARCH_RESIDENT_ID, today=TODAY) == Identifier(
        IdKind.RESIDENT_ID, ARCH_RESIDENT_ID
    )
    assert compute_resident_id_check(ARCH_RESIDENT_ID[:17]) == "X"


# --- check characters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "check"),
    [("12345670", "2"), ("12345677", "X"), ("12345671", "0"), ("00000000", "0")],
)
def test_org_code_check_writes_10_as_x_and_11_as_0(body: str, check: str) -> None:
    assert compute_org_code_check(body) == check


def test_org_code_letters_are_valued_10_to_35() -> None:
    # A=10 … Z=35: "A" at position 1 weighs 3 × 10 = 30 ≡ 8 (mod 11) → 11 - 8 = 3.
    assert compute_org_code_check("A0000000") == "3"
    assert compute_org_code_check("Z0000000") == str(11 - (3 * 35) % 11)


def test_uscc_check_writes_31_as_0() -> None:
    assert compute_uscc_check("91350100000000108") == "0"


@pytest.mark.parametrize(
    ("helper", "argument", "code"),
    [
        (compute_uscc_check, "9135010", "bad_length"),
        (compute_uscc_check, "91350100M000100YI", "bad_character"),
        (compute_org_code_check, "1234", "bad_length"),
        (compute_org_code_check, "1234567-", "bad_character"),
        (compute_resident_id_check, "1101051949", "bad_length"),
        (compute_resident_id_check, "11010519491231A02", "bad_character"),
    ],
)
def test_check_helpers_reject_bad_input(
    helper: Callable[[str], str], argument: str, code: str
) -> None:
    with pytest.raises(IdentifierError) as caught:
        helper(argument)
    assert caught.value.code == code


# --- USCC ------------------------------------------------------------------------


def test_uscc_wrong_check_character() -> None:
    error = parse_error(ARCH_USCC[:17] + "Y")
    assert (error.kind, error.code) == (IdKind.USCC, "bad_check_character")
    assert error.reason == str(error) == "check character should be 3, got Y"
    assert error.raw == ARCH_USCC[:17] + "Y"


def test_uscc_wrong_embedded_org_code_check_is_reported_at_position_17() -> None:
    value = ARCH_USCC[:16] + "5" + ARCH_USCC[17]
    error = parse_error(value)
    assert (error.kind, error.code) == (IdKind.USCC, "bad_org_code_check")
    assert error.reason == "organisation code check character (position 17) should be 4, got 5"


def test_uscc_generated_without_gb_11714_fails_on_org_code_check_only() -> None:
    first17 = ARCH_USCC[:16] + "5"
    error = parse_error(first17 + compute_uscc_check(first17))
    assert error.code == "bad_org_code_check"


@pytest.mark.parametrize("authority", ["Y", "A", "N", "1", "5", "9"])
def test_uscc_registration_authority_may_be_a_letter(authority: str) -> None:
    value = make_uscc(authority + "1350100", "M000100Y")
    assert parse_identifier(value) == Identifier(IdKind.USCC, value)


def test_uscc_region_code_must_be_digits() -> None:
    error = parse_error("91A50100M000100Y43")
    assert (error.kind, error.code) == (IdKind.USCC, "bad_region_code")
    assert "positions 3–8" in error.reason


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_uscc_alphabet_excludes_i_o_s_v_z(letter: str) -> None:
    error = parse_error("91350100M" + letter + "00100Y43")
    assert (error.kind, error.code) == (IdKind.USCC, "bad_character")
    assert error.reason == f"character {letter!r} at position 10 is not allowed in a uscc"


def test_uscc_with_explicit_kind_and_wrong_length() -> None:
    error = parse_error(ARCH_USCC[:17], IdKind.USCC)
    assert (error.kind, error.code) == (IdKind.USCC, "bad_length")
    assert error.reason == "uscc must have 18 characters, got 17"


def test_org_code_of_uscc() -> None:
    assert org_code_of_uscc(" 91350100m000100y43 ") == "M000100Y4"
    assert parse_identifier(org_code_of_uscc(ARCH_USCC)).kind is IdKind.ORG_CODE
    with pytest.raises(IdentifierError):
        org_code_of_uscc(ARCH_USCC[:17] + "0")


@given(valid_usccs())
def test_generated_usccs_are_valid(value: str) -> None:
    assert parse_identifier(value, IdKind.USCC).value == value
    if not is_valid(value, IdKind.RESIDENT_ID):  # an all-digit USCC can be both
        assert parse_identifier(value, today=TODAY).kind is IdKind.USCC


@given(valid_usccs(), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_any_single_substitution_in_a_uscc_is_detected(
    value: str, position: int, char: str
) -> None:
    # Weights 3^k mod 31 are non-zero, 31 is prime and |Δ| ≤ 30: a changed character
    # always changes the sum mod 31 (and a changed check character cannot match).
    assume(value[position] != char)
    changed = value[:position] + char + value[position + 1 :]
    assert not is_valid(changed, IdKind.USCC)


@given(valid_usccs(), st.integers(0, 15))
def test_adjacent_transpositions_in_a_uscc_body_are_detected(value: str, position: int) -> None:
    # Weights are distinct powers of the primitive root 3 mod 31: w_i - w_j ≢ 0.
    assume(value[position] != value[position + 1])
    swapped = value[:position] + value[position + 1] + value[position] + value[position + 2 :]
    assert not is_valid(swapped, IdKind.USCC)


# --- organisation code -----------------------------------------------------------


def test_org_code_plain_and_printed_form() -> None:
    assert parse_identifier("123456745") == Identifier(IdKind.ORG_CODE, "123456745")
    assert parse_identifier("12345677-X") == Identifier(IdKind.ORG_CODE, "12345677X")
    assert parse_identifier("12345677x", IdKind.ORG_CODE).value == "12345677X"


def test_org_code_wrong_check() -> None:
    error = parse_error("12345678-9")
    assert (error.kind, error.code) == (IdKind.ORG_CODE, "bad_check_character")
    assert error.reason == "check character should be 8, got 9"


def test_org_code_bad_length_and_character() -> None:
    assert parse_error("1234567", IdKind.ORG_CODE).code == "bad_length"
    error = parse_error("1234567_8")
    assert (error.kind, error.code) == (IdKind.ORG_CODE, "bad_character")


def test_org_code_single_substitution_by_eleven_is_not_detected() -> None:
    # GB 11714 values letters 10–35 but checks mod 11: "1" (1) → "C" (12) keeps the sum.
    assert is_valid("12345677X", IdKind.ORG_CODE)
    assert is_valid("C2345677X", IdKind.ORG_CODE)


# --- resident identity number ----------------------------------------------------


def test_resident_id_wrong_check_is_reported_as_resident_id() -> None:
    error = parse_error(ARCH_RESIDENT_ID[:17] + "3")
    assert (error.kind, error.code) == (IdKind.RESIDENT_ID, "bad_check_character")
    assert error.reason == "check character should be X, got 3"


def test_resident_id_lower_case_x_and_full_width_digits_are_normalised() -> None:
    assert parse_identifier(" 11010519491231002x\n", today=TODAY).value == ARCH_RESIDENT_ID
    full_width = "１１０１０５１９４９１２３１００２Ｘ"
    assert parse_identifier(full_width, today=TODAY).value == ARCH_RESIDENT_ID


@pytest.mark.parametrize(
    ("birth", "reason_part"),
    [
        ("19490231", "not a real calendar date"),
        ("19491301", "not a real calendar date"),
        ("18991231", "between 1900-01-01 and today"),
        ("20250701", "between 1900-01-01 and today"),
    ],
)
def test_resident_id_birth_date(birth: str, reason_part: str) -> None:
    error = parse_error(make_resident_id("110105" + birth + "002"), IdKind.RESIDENT_ID)
    assert (error.kind, error.code) == (IdKind.RESIDENT_ID, "bad_birth_date")
    assert reason_part in error.reason


def test_detection_needs_a_plausible_birth_date_to_call_it_a_resident_id() -> None:
    feb_31 = parse_error(make_resident_id("110105" + "19490231" + "002"))
    assert (feb_31.kind, feb_31.code) == (IdKind.RESIDENT_ID, "bad_birth_date")
    month_13 = parse_error(make_resident_id("110105" + "19491301" + "002"))
    assert month_13.kind is IdKind.USCC  # month 13 does not look like a date at all


def test_resident_id_birth_dates_at_the_bounds_are_valid() -> None:
    for birth in ("19000101", TODAY.strftime("%Y%m%d")):
        assert is_valid(make_resident_id("110105" + birth + "002"), IdKind.RESIDENT_ID)


def test_resident_id_future_birth_depends_on_today() -> None:
    value = make_resident_id("110105" + "20250701" + "002")
    assert parse_identifier(value, today=date(2025, 7, 1)).kind is IdKind.RESIDENT_ID
    with pytest.raises(IdentifierError):
        parse_identifier(value, today=date(2025, 6, 30))


def test_today_defaults_to_the_real_date() -> None:
    assert parse_identifier(ARCH_RESIDENT_ID).kind is IdKind.RESIDENT_ID
    assert parse_identifier(ARCH_RESIDENT_ID, IdKind.RESIDENT_ID).kind is IdKind.RESIDENT_ID


@pytest.mark.parametrize("prefix", sorted(PROVINCE_PREFIXES))
def test_resident_id_every_province_prefix_is_accepted(prefix: str) -> None:
    assert is_valid(make_resident_id(prefix + "0105" + "19491231" + "002"), IdKind.RESIDENT_ID)


def test_province_prefix_list_is_the_documented_one() -> None:
    expected = {
        *map(str, range(11, 16)),
        *map(str, range(21, 24)),
        *map(str, range(31, 38)),
        *map(str, range(41, 47)),
        *map(str, range(50, 55)),
        *map(str, range(61, 66)),
        "71",
        "81",
        "82",
        "83",
    }
    assert expected == PROVINCE_PREFIXES


@pytest.mark.parametrize("prefix", ["00", "10", "16", "20", "38", "47", "55", "60", "72", "84"])
def test_resident_id_unknown_province_prefix(prefix: str) -> None:
    error = parse_error(make_resident_id(prefix + "0105" + "19491231" + "002"))
    assert (error.kind, error.code) == (IdKind.RESIDENT_ID, "bad_region_code")


def test_foreigner_permanent_residence_number_starts_with_9_and_a_province() -> None:
    valid = make_resident_id("911156" + "19800101" + "002")  # 9 + Beijing (11) + 156
    assert parse_identifier(valid, today=TODAY).subject_kind is SubjectKind.PERSON
    error = parse_error(make_resident_id("990156" + "19800101" + "002"), IdKind.RESIDENT_ID)
    assert error.code == "bad_region_code"


@pytest.mark.parametrize(
    ("raw", "code", "reason"),
    [
        ("1101051949123100", "bad_length", "resident_id must have 18 characters, got 16"),
        ("11010519491231A02X", "bad_character", "character 'A' at position 15"),
        ("1101051949X231002X", "bad_character", "character 'X' at position 11"),
        ("110105194912310021", "bad_check_character", "should be X, got 1"),
    ],
)
def test_resident_id_with_explicit_kind(raw: str, code: str, reason: str) -> None:
    error = parse_error(raw, IdKind.RESIDENT_ID)
    assert (error.kind, error.code) == (IdKind.RESIDENT_ID, code)
    assert reason in error.reason


def test_error_reasons_never_quote_the_identifier() -> None:
    for raw in ("110105194902310023", "110105194912310023", "001105194912310023"):
        assert "19491231" not in parse_error(raw).reason
        assert "19490231" not in parse_error(raw).reason


@given(valid_resident_ids())
def test_generated_resident_ids_are_valid(value: str) -> None:
    assert parse_identifier(value, today=TODAY) == Identifier(IdKind.RESIDENT_ID, value)


@given(valid_resident_ids(), st.integers(0, 17), st.sampled_from(DIGITS + "X"))
def test_any_single_substitution_in_a_resident_id_is_detected(
    value: str, position: int, char: str
) -> None:
    # MOD 11-2: weights 2^k mod 11 are non-zero and 11 is prime, |Δ| ≤ 9: always caught.
    assume(value[position] != char)
    changed = value[:position] + char + value[position + 1 :]
    assert not is_valid(changed, IdKind.RESIDENT_ID)


@given(valid_resident_ids(), st.integers(0, 15))
def test_adjacent_transpositions_in_a_resident_id_body_are_detected(
    value: str, position: int
) -> None:
    assume(value[position] != value[position + 1])
    swapped = value[:position] + value[position + 1] + value[position] + value[position + 2 :]
    assert not is_valid(swapped, IdKind.RESIDENT_ID)


# --- detection -------------------------------------------------------------------


def _resident_shaped_valid_uscc() -> str:
    """An all-digit valid USCC whose positions 7–14 look like a birth date."""
    for suffix in range(100):
        # Region "00" at positions 1–2: never a valid resident id.
        value = make_uscc("00000019", "900101" + f"{suffix:02d}")
        if value[16] in DIGITS and value[17] in DIGITS + "X":
            return value
    raise AssertionError("no example")  # pragma: no cover


def test_resident_shaped_value_that_is_a_valid_uscc_is_a_uscc() -> None:
    value = _resident_shaped_valid_uscc()
    assert parse_identifier(value, today=TODAY).kind is IdKind.USCC


def test_resident_shaped_value_invalid_as_both_reports_the_resident_id_error() -> None:
    value = _resident_shaped_valid_uscc()
    changed = value[:17] + ("1" if value[17] != "1" else "2")
    assert parse_error(changed).kind is IdKind.RESIDENT_ID


def test_eighteen_digits_without_a_birth_date_are_checked_as_uscc() -> None:
    error = parse_error("123456789012345678")
    assert error.kind is IdKind.USCC


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("123456789012345", IdKind.REGISTRATION_NO),
        ("E12345678", IdKind.PASSPORT),
        ("EA1234567", IdKind.PASSPORT),
        ("G1234567", IdKind.PASSPORT),
        ("SE1234567", IdKind.PASSPORT),
        ("MA1234567", IdKind.PASSPORT),  # passport-shaped wins over an organisation code
        ("123456745", IdKind.ORG_CODE),
    ],
)
def test_detection(raw: str, kind: IdKind) -> None:
    assert parse_identifier(raw).kind is kind


def test_passport_shaped_org_code_needs_an_explicit_kind() -> None:
    body = "MA123456"
    value = body + compute_org_code_check(body)
    assert parse_identifier(value, IdKind.ORG_CODE).kind is IdKind.ORG_CODE
    assert parse_identifier(value).kind is IdKind.PASSPORT


@pytest.mark.parametrize("raw", ["", "   ", "hello", "1234567890", "12345678901234A", "E123"])
def test_unknown_format(raw: str) -> None:
    error = parse_error(raw)
    assert (error.kind, error.code) == (None, "unknown_format")
    assert "not a recognised identifier format" in error.reason


def test_registration_number_with_explicit_kind() -> None:
    assert parse_identifier(" 123456789012345", IdKind.REGISTRATION_NO).value == "123456789012345"
    assert parse_error("12345678901234", IdKind.REGISTRATION_NO).code == "bad_length"
    error = parse_error("12345678901234A", IdKind.REGISTRATION_NO)
    assert (error.kind, error.code) == (IdKind.REGISTRATION_NO, "bad_character")


@pytest.mark.parametrize(
    ("raw", "code"),
    [("E123456", "bad_length"), ("E1234567890", "bad_length"), ("123456789", "bad_format")],
)
def test_passport_with_explicit_kind(raw: str, code: str) -> None:
    error = parse_error(raw, IdKind.PASSPORT)
    assert (error.kind, error.code) == (IdKind.PASSPORT, code)


def test_passport_lower_case_is_normalised() -> None:
    assert parse_identifier("e12345678", IdKind.PASSPORT).value == "E12345678"


# --- Identifier properties and masking -------------------------------------------


@pytest.mark.parametrize(
    ("kind", "subject_kind"),
    [
        (IdKind.USCC, SubjectKind.ORGANIZATION),
        (IdKind.ORG_CODE, SubjectKind.ORGANIZATION),
        (IdKind.REGISTRATION_NO, SubjectKind.ORGANIZATION),
        (IdKind.RESIDENT_ID, SubjectKind.PERSON),
        (IdKind.PASSPORT, SubjectKind.PERSON),
    ],
)
def test_subject_kind(kind: IdKind, subject_kind: SubjectKind) -> None:
    assert Identifier(kind, "x").subject_kind is subject_kind


def test_masked_forms() -> None:
    assert Identifier(IdKind.RESIDENT_ID, ARCH_RESIDENT_ID).masked == "110105********002X"
    assert Identifier(IdKind.PASSPORT, "E12345678").masked == "E1*****78"
    assert Identifier(IdKind.USCC, ARCH_USCC).masked == ARCH_USCC
    assert Identifier(IdKind.ORG_CODE, "123456745").masked == "123456745"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        (ARCH_RESIDENT_ID, "110105********002X"),
        ("11010519491231002x", "110105********002X"),
        ("110105194912310023", "110105********0023"),  # invalid, looked like a resident id
        ("EA1234567", "EA*****67"),
        (ARCH_USCC, ARCH_USCC),
        ("91350100M000100Y42", "91**************42"),  # invalid: masked conservatively
        ("hello", "HE*LO"),
        ("abcd", "****"),
        ("", ""),
    ],
)
def test_mask(raw: str, masked: str) -> None:
    assert mask(raw) == masked


@given(valid_resident_ids())
def test_mask_never_shows_the_birth_date_and_sequence(value: str) -> None:
    masked = mask(value)
    assert masked[6:14] == "********"
    assert masked[:6] + masked[14:] == value[:6] + value[14:]


# --- subjects with several identifiers -------------------------------------------


def test_canonical_prefers_uscc_then_resident_then_org_then_registration_then_passport() -> None:
    uscc = Identifier(IdKind.USCC, ARCH_USCC)
    org = Identifier(IdKind.ORG_CODE, "M000100Y4")
    reg = Identifier(IdKind.REGISTRATION_NO, "350100100012345")
    assert canonical_subject_id([reg, org, uscc]) == ARCH_USCC
    assert canonical_subject_id([reg, org]) == "M000100Y4"
    assert canonical_subject_id([reg]) == "350100100012345"
    person = Identifier(IdKind.RESIDENT_ID, ARCH_RESIDENT_ID)
    passport = Identifier(IdKind.PASSPORT, "E12345678")
    assert canonical_subject_id([passport, person]) == ARCH_RESIDENT_ID
    assert canonical_subject_id([passport]) == "E12345678"


def test_canonical_is_independent_of_order_among_equals() -> None:
    a, b = Identifier(IdKind.PASSPORT, "E12345678"), Identifier(IdKind.PASSPORT, "EA1234567")
    assert canonical_subject_id([a, b]) == canonical_subject_id([b, a]) == "E12345678"


def test_canonical_errors() -> None:
    with pytest.raises(IdentifierError) as empty:
        canonical_subject_id([])
    assert (empty.value.code, empty.value.kind) == ("no_identifier", None)
    person = Identifier(IdKind.RESIDENT_ID, ARCH_RESIDENT_ID)
    with pytest.raises(IdentifierError) as mixed:
        canonical_subject_id(iter([person, Identifier(IdKind.USCC, ARCH_USCC)]))
    assert mixed.value.code == "mixed_subject_kinds"
    other = Identifier(IdKind.RESIDENT_ID, make_resident_id("11010519800101002"))
    with pytest.raises(IdentifierError) as conflict:
        canonical_subject_id([person, other])
    assert (conflict.value.code, conflict.value.kind) == (
        "conflicting_identifiers",
        IdKind.RESIDENT_ID,
    )


def test_derive_identity() -> None:
    identity = derive_identity(
        ["E12345678", "11010519491231002x", ARCH_RESIDENT_ID, "EA1234567"], today=TODAY
    )
    assert identity == SubjectIdentity(
        subject_id=ARCH_RESIDENT_ID,
        identifiers=(
            Identifier(IdKind.RESIDENT_ID, ARCH_RESIDENT_ID),
            Identifier(IdKind.PASSPORT, "E12345678"),
            Identifier(IdKind.PASSPORT, "EA1234567"),
        ),
        subject_kind=SubjectKind.PERSON,
    )
    organization = derive_identity([org_code_of_uscc(ARCH_USCC), ARCH_USCC])
    assert organization.subject_id == ARCH_USCC
    assert organization.subject_kind is SubjectKind.ORGANIZATION


def test_derive_identity_propagates_parse_errors() -> None:
    with pytest.raises(IdentifierError) as caught:
        derive_identity([ARCH_USCC, "nonsense"])
    assert caught.value.code == "unknown_format"


def test_mask_personal_numbers_walks_json_and_masks_only_personal_numbers() -> None:
    from shared.domain.identifiers import mask_personal_numbers

    person = "11010519491231002X"
    org = "91350100M000100Y43"
    doc = {
        "subject_id": person,
        "ids": [person, org, "E12345678"],
        "pair": (person, 3),
        "reason": f"名下 {person} 的账户",  # free text is left alone
        "n": 7,
        "none": None,
    }
    assert mask_personal_numbers(doc) == {
        "subject_id": "110105********002X",
        "ids": ["110105********002X", org, "E1*****78"],
        "pair": ["110105********002X", 3],
        "reason": f"名下 {person} 的账户",
        "n": 7,
        "none": None,
    }


def test_display_masks_unless_in_clear() -> None:
    from shared.domain.identifiers import display

    assert display("11010519491231002X", True) == "11010519491231002X"
    assert display("11010519491231002X", False) == "110105********002X"
