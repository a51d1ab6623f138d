"""shared.domain.identifiers: the common shapes' shortcut says what the full parser says.

`parse_identifier` decides a valid ASCII USCC or resident id in a few C calls and
hands every other value to `_parse_in_full` (the parser as it was, every rule in the
standards' order). Here both run on the same values — valid ones, valid ones mutated
(substituted, transposed, cut, lengthened, case, white space, full width), values of
the characters identifiers are made of, and any text — and must agree on the outcome:
the same `Identifier`, or an `IdentifierError` with the same raw value, kind, code and
reason. The examples at the end take each branch of the shortcut on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.identifiers import (
    PROVINCE_PREFIXES,
    USCC_ALPHABET,
    Identifier,
    IdentifierError,
    IdKind,
    _parse_in_full,
    parse_identifier,
)
from tests.support.subjects import new_resident_id, new_uscc
from tests.unit.test_identifiers import (
    ARCH_RESIDENT_ID,
    ARCH_USCC,
    TODAY,
    make_resident_id,
    valid_resident_ids,
    valid_usccs,
)

Outcome = tuple[str, object, object, object, object]
Parse = Callable[[str, IdKind | None, date | None], Identifier]


def _shortcut_first(raw: str, kind: IdKind | None, today: date | None) -> Identifier:
    return parse_identifier(raw, kind, today=today)


def outcome(parse: Parse, raw: str, kind: IdKind | None, today: date | None) -> Outcome:
    try:
        found = parse(raw, kind, today)
    except IdentifierError as error:
        return ("error", error.raw, error.kind, error.code, error.reason)
    return ("ok", found.kind, found.value, type(found), None)


def assert_same(raw: str, kind: IdKind | None = None, today: date | None = TODAY) -> None:
    assert outcome(_shortcut_first, raw, kind, today) == outcome(_parse_in_full, raw, kind, today)


# --- strategies ------------------------------------------------------------------

kinds = st.none() | st.sampled_from(list(IdKind))
todays = st.just(TODAY) | st.dates(min_value=date(1899, 1, 1), max_value=date(2100, 12, 31))
# What identifiers are made of, and what typing and copying put around them.
_TYPED = USCC_ALPHABET + "IOSVZ" + "x-_ +" + "abcdefghjklmnpqrtuwxy"
_ODD = ("１", "Ｘ", "\u3000", "\t", "\x1c", "é", "٣", "ℌ")
pieces = st.sampled_from([*_TYPED, *_ODD])


@st.composite
def birth_edge_resident_ids(draw: st.DrawFn) -> str:
    """Resident ids whose birth date sits where the calendar or the bounds bite."""
    province = draw(st.sampled_from(sorted(PROVINCE_PREFIXES)))
    year = draw(st.sampled_from([1800, 1899, 1900, 1901, 1999, 2000, 2024, 2025, 2026, 2099]))
    month = draw(st.integers(0, 13))
    day = draw(st.integers(0, 32))
    birth = f"{year:04d}{month:02d}{day:02d}"
    sequence = draw(st.text("0123456789", min_size=3, max_size=3))
    return make_resident_id(province + "0101" + birth + sequence)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    value = draw(valid_usccs() | valid_resident_ids() | birth_edge_resident_ids())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(value)))
        how = draw(st.sampled_from(["substitute", "transpose", "delete", "insert", "case", "pad"]))
        if how == "substitute" and at < len(value):
            value = value[:at] + draw(pieces) + value[at + 1 :]
        elif how == "transpose" and at + 1 < len(value):
            value = value[:at] + value[at + 1] + value[at] + value[at + 2 :]
        elif how == "delete":
            value = value[:at] + value[at + 1 :]
        elif how == "insert":
            value = value[:at] + draw(pieces) + value[at:]
        elif how == "case":
            value = value.lower()
        else:
            value = draw(st.sampled_from([" ", "\t", "\u3000", ""])) + value + " "
    return value


# --- the shortcut and the full parser agree --------------------------------------


@settings(max_examples=600)
@given(valid_usccs() | valid_resident_ids(), kinds, todays)
def test_valid_identifiers(raw: str, kind: IdKind | None, today: date) -> None:
    assert_same(raw, kind, today)


@settings(max_examples=600)
@given(birth_edge_resident_ids(), kinds, todays)
def test_resident_ids_at_the_birth_dates_edges(raw: str, kind: IdKind | None, today: date) -> None:
    assert_same(raw, kind, today)


@settings(max_examples=1500)
@given(mutated(), kinds)
def test_mutated_identifiers(raw: str, kind: IdKind | None) -> None:
    assert_same(raw, kind)


@settings(max_examples=1000)
@given(st.text(pieces, max_size=20), kinds)
def test_values_of_identifier_characters(raw: str, kind: IdKind | None) -> None:
    assert_same(raw, kind)


@settings(max_examples=500)
@given(st.text(st.sampled_from("0123456789X"), min_size=18, max_size=18), kinds)
def test_eighteen_digit_strings(raw: str, kind: IdKind | None) -> None:
    assert_same(raw, kind)


@settings(max_examples=500)
@given(st.text(max_size=24), kinds)
def test_any_text(raw: str, kind: IdKind | None) -> None:
    assert_same(raw, kind)


def test_the_fixtures_identifiers() -> None:
    values = [ARCH_USCC, ARCH_RESIDENT_ID, "91350100M000100Y43 ", " 11010519491231002x"]
    values += [new_uscc() for _ in range(300)] + [new_resident_id() for _ in range(300)]
    for value in values:
        for kind in (None, *IdKind):
            assert_same(value, kind)


def test_the_default_today_is_the_real_date() -> None:
    born_today = _resident(date.today().strftime("%Y%m%d"))
    born_tomorrow = _resident((date.today() + timedelta(days=1)).strftime("%Y%m%d"))
    assert parse_identifier(born_today).kind is IdKind.RESIDENT_ID
    with pytest.raises(IdentifierError) as caught:
        parse_identifier(born_tomorrow)
    assert caught.value.code == "bad_birth_date"
    for value in (born_today, born_tomorrow):
        assert_same(value, None, None)


# --- each branch of the shortcut, on purpose -------------------------------------


def _resident(birth: str, region: str = "110101") -> str:
    return make_resident_id(region + birth + "123")


@pytest.mark.parametrize(
    "raw",
    [
        ARCH_USCC,  # a USCC: taken by the shortcut
        ARCH_RESIDENT_ID,  # a resident id: taken
        _resident("20000229"),  # the 29th of a leap year: a calendar day
        _resident("20000131"),  # the 31st of a long month
        "１１０１０５１９４９１２３１００２Ｘ",  # not ASCII: the full parser
        "123456789",  # not 18 characters
        _resident("19490231"),  # no 31 February
        _resident("19000229"),  # 1900 was no leap year
        _resident("18991231"),  # before 1900
        _resident("20250701"),  # after TODAY
        _resident("19491231", region="001234"),  # no province
        ARCH_RESIDENT_ID[:17] + "1",  # a wrong check character
        "91350100M000100Y4I",  # a character outside the USCC's alphabet
        "9135A100M000100Y43",  # a letter in the region code
        "91350100M000100Y53",  # a wrong organisation-code check (position 17)
        "91350100M000100Y44",  # a wrong check character
    ],
)
def test_each_branch(raw: str) -> None:
    for kind in (None, IdKind.USCC, IdKind.RESIDENT_ID, IdKind.PASSPORT):
        assert_same(raw, kind)


def test_a_kind_given_is_the_shortcuts_only_when_it_is_the_one_detected() -> None:
    assert parse_identifier(ARCH_USCC, IdKind.USCC) == Identifier(IdKind.USCC, ARCH_USCC)
    with pytest.raises(IdentifierError) as caught:
        parse_identifier(ARCH_USCC, IdKind.RESIDENT_ID)
    assert (caught.value.kind, caught.value.code) == (IdKind.RESIDENT_ID, "bad_character")
