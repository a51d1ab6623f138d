"""Subject identifiers (DOMAIN.md §2): parse, validate, mask, and pick a canonical id.

Kinds and the standards behind them:

- ``USCC`` — 统一社会信用代码, GB 32100-2015: 18 characters of
  ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (values 0..30; no I, O, S, V, Z). Position 1 is
  the registration-authority code (a digit or a letter such as ``Y``, ``A``, ``N``),
  position 2 the category, positions 3–8 the administrative-region code (digits),
  positions 9–17 the embedded organisation code (GB 11714, with its own check
  character at position 17) and position 18 the check character: weights
  ``1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28``, check = ``31 - (sum mod 31)``,
  31 written ``0``.
- ``ORG_CODE`` — 组织机构代码, GB 11714-1997: 8 body characters (0–9 = 0–9, A–Z = 10–35)
  and a check character: weights ``3 7 9 10 5 8 4 2``, check = ``11 - (sum mod 11)``,
  10 written ``X``, 11 written ``0``. The printed form ``XXXXXXXX-X`` is accepted.
- ``RESIDENT_ID`` — 公民身份号码, GB 11643-1999: 6-digit region code, 8-digit birth date,
  3-digit sequence and a check character: weights ``7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2``,
  ``sum mod 11`` indexes ``1 0 X 9 8 7 6 5 4 3 2``. The 15-digit first-generation number
  (GB 11643-1989) is not supported.
- ``REGISTRATION_NO`` — 注册号, the 15-digit business registration number that preceded
  the USCC. Shape check only: 15 digits.
- ``PASSPORT`` — shape check only (passports have no public check character):
  ``^[A-Z]{1,2}[0-9]{7,8}$`` with 8–9 characters in all, which covers the mainland
  series ``E12345678``, ``EA1234567``, ``G12345678``, ``D1234567``, ``SE1234567``.

Values are normalised before validation: Unicode NFKC (full-width ``１`` → ``1``),
surrounding white space stripped, upper-cased. Error reasons never quote the
identifier itself (they end up in logs); only ``IdentifierError.raw`` holds it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from operator import mul

from shared.domain.vocabulary import SubjectKind

__all__ = [
    "PROVINCE_PREFIXES",
    "USCC_ALPHABET",
    "IdKind",
    "Identifier",
    "IdentifierError",
    "SubjectIdentity",
    "canonical_subject_id",
    "compute_org_code_check",
    "compute_resident_id_check",
    "compute_uscc_check",
    "derive_identity",
    "mask",
    "org_code_of_uscc",
    "parse_identifier",
]


class IdKind(StrEnum):
    USCC = "uscc"  # 统一社会信用代码, GB 32100-2015
    RESIDENT_ID = "resident_id"  # 公民身份号码, GB 11643-1999
    PASSPORT = "passport"  # 护照号码 (shape check only)
    ORG_CODE = "org_code"  # 组织机构代码, GB 11714-1997
    REGISTRATION_NO = "registration_no"  # 注册号 (15 digits, shape check only)


class IdentifierError(ValueError):
    """An identifier that is not valid; ``str(err) == err.reason``.

    ``code`` is a stable machine code: ``bad_length``, ``bad_character``,
    ``bad_format``, ``bad_check_character``, ``bad_org_code_check``, ``bad_birth_date``,
    ``bad_region_code``, ``unknown_format``, ``no_identifier``, ``mixed_subject_kinds``,
    ``conflicting_identifiers``. ``kind`` is the kind the value looked like (None when
    it looked like none of them).
    """

    def __init__(self, raw: str, kind: IdKind | None, code: str, reason: str) -> None:
        super().__init__(reason)
        self.raw = raw
        self.kind = kind
        self.code = code
        self.reason = reason


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # value = index (A = 10 … Z = 35)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECKS = "10X98765432"
_DIGITS = "0123456789"
_RESIDENT_CHARS = _DIGITS + "X"
_USCC_VALUES = {c: v for v, c in enumerate(USCC_ALPHABET)}
_ORG_VALUES = {c: v for v, c in enumerate(_ORG_ALPHABET)}

#: Provincial prefixes of GB/T 2260 accepted at positions 1–2 of a resident id:
#: 11–15 (North), 21–23 (North-east), 31–37 (East), 41–46 (Central-south),
#: 50–54 (South-west), 61–65 (North-west), 71 Taiwan, 81 Hong Kong, 82 Macao,
#: 83 (residence permits of Taiwan residents). A leading ``9`` followed by one of these
#: at positions 2–3 is the 2023 foreigner's permanent-residence identity card.
PROVINCE_PREFIXES: frozenset[str] = frozenset(
    [f"{n}" for n in range(11, 16)]
    + [f"{n}" for n in range(21, 24)]
    + [f"{n}" for n in range(31, 38)]
    + [f"{n}" for n in range(41, 47)]
    + [f"{n}" for n in range(50, 55)]
    + [f"{n}" for n in range(61, 66)]
    + ["71", "81", "82", "83"]
)
_EARLIEST_BIRTH = date(1900, 1, 1)
_PASSPORT_RE = re.compile(r"[A-Z]{1,2}[0-9]{7,8}")
_LOOKS_LIKE_BIRTH_DATE = re.compile(r"(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])")

_ORGANIZATION_KINDS = frozenset({IdKind.USCC, IdKind.ORG_CODE, IdKind.REGISTRATION_NO})
# Priority of kinds when choosing the canonical subject id (first present wins).
_CANONICAL_ORDER = (
    IdKind.USCC,
    IdKind.RESIDENT_ID,
    IdKind.ORG_CODE,
    IdKind.REGISTRATION_NO,
    IdKind.PASSPORT,
)
# Kinds of which one subject can carry only one distinct value.
_UNIQUE_PER_SUBJECT = frozenset({IdKind.USCC, IdKind.RESIDENT_ID})


@dataclass(frozen=True)
class Identifier:
    """A validated identifier; build it with :func:`parse_identifier` (no validation here)."""

    kind: IdKind
    value: str

    @property
    def subject_kind(self) -> SubjectKind:
        if self.kind in _ORGANIZATION_KINDS:
            return SubjectKind.ORGANIZATION
        return SubjectKind.PERSON

    @property
    def masked(self) -> str:
        """Display form: resident ids and passports masked, organisation ids in clear."""
        if self.kind is IdKind.RESIDENT_ID:
            return _mask_resident_id(self.value)
        if self.kind is IdKind.PASSPORT:
            return _mask_keep(self.value, 2, 2)
        return self.value


@dataclass(frozen=True)
class SubjectIdentity:
    """One subject and all its identifiers; ``subject_id`` is the canonical one."""

    subject_id: str
    identifiers: tuple[Identifier, ...]
    subject_kind: SubjectKind

    @property
    def birth_date(self) -> date | None:
        """The birth date a resident identity number carries (positions 7–14), if any."""
        for identifier in self.identifiers:
            if identifier.kind is IdKind.RESIDENT_ID:
                digits = identifier.value[6:14]
                return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        return None

    def age_on(self, day: date) -> int | None:
        """Full years of age on `day` (None when no identifier tells the birth date)."""
        born = self.birth_date
        if born is None:
            return None
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# --- check characters -------------------------------------------------------------


def _require(raw: str, kind: IdKind, chars: str, alphabet: str, length: int) -> None:
    # Why the first test: a check validates an identifier per call (7-11 % of the
    # responder's CPU under check load, docs/benchmarks.md); `str.strip` of every
    # allowed character leaves nothing exactly when each character is allowed, in C.
    if len(chars) == length and not chars.strip(alphabet):
        return
    if len(chars) != length:
        raise IdentifierError(
            raw, kind, "bad_length", f"{kind.value} must have {length} characters, got {len(chars)}"
        )
    # Some character is not allowed (the test above): the first one is named.
    position, char = next((i, c) for i, c in enumerate(chars, start=1) if c not in alphabet)
    raise _bad_character(raw, kind, char, position)


def _bad_character(raw: str, kind: IdKind, char: str, position: int) -> IdentifierError:
    return IdentifierError(
        raw,
        kind,
        "bad_character",
        f"character {char!r} at position {position} is not allowed in a {kind.value}",
    )


def compute_uscc_check(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 USCC characters."""
    _require(first17, IdKind.USCC, first17, USCC_ALPHABET, 17)
    total = sum(map(mul, map(_USCC_VALUES.__getitem__, first17), _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def compute_org_code_check(first8: str) -> str:
    """The GB 11714-1997 check character of an 8-character organisation-code body."""
    _require(first8, IdKind.ORG_CODE, first8, _ORG_ALPHABET, 8)
    total = sum(map(mul, map(_ORG_VALUES.__getitem__, first8), _ORG_WEIGHTS))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def compute_resident_id_check(first17: str) -> str:
    """The GB 11643-1999 check character of the first 17 digits of a resident id."""
    _require(first17, IdKind.RESIDENT_ID, first17, _DIGITS, 17)
    total = sum(map(mul, map(int, first17), _RESIDENT_WEIGHTS))
    return _RESIDENT_CHECKS[total % 11]


# --- validators (value is already normalised) ---------------------------------------


def _check_char(raw: str, kind: IdKind, code: str, label: str, expected: str, got: str) -> None:
    if expected != got:
        raise IdentifierError(raw, kind, code, f"{label} should be {expected}, got {got}")


def _validate_uscc(raw: str, value: str, today: date) -> str:
    _require(raw, IdKind.USCC, value, USCC_ALPHABET, 18)
    if value[2:8].strip(_DIGITS):
        raise IdentifierError(
            raw, IdKind.USCC, "bad_region_code", "region code (positions 3–8) must be 6 digits"
        )
    # The embedded organisation-code check is reported first: when only position 17
    # is wrong both checks fail, and only this message points at the right character.
    _check_char(
        raw,
        IdKind.USCC,
        "bad_org_code_check",
        "organisation code check character (position 17)",
        compute_org_code_check(value[8:16]),
        value[16],
    )
    _check_char(
        raw,
        IdKind.USCC,
        "bad_check_character",
        "check character",
        compute_uscc_check(value[:17]),
        value[17],
    )
    return value


def _validate_org_code(raw: str, value: str, today: date) -> str:
    if len(value) == 10 and value[8] == "-":  # printed form XXXXXXXX-X
        value = value[:8] + value[9]
    _require(raw, IdKind.ORG_CODE, value, _ORG_ALPHABET, 9)
    _check_char(
        raw,
        IdKind.ORG_CODE,
        "bad_check_character",
        "check character",
        compute_org_code_check(value[:8]),
        value[8],
    )
    return value


def _region_ok(value: str) -> bool:
    if value[0] == "9":  # 2023 foreigner's permanent-residence card: 9 + province
        return value[1:3] in PROVINCE_PREFIXES
    return value[:2] in PROVINCE_PREFIXES


def _validate_resident_id(raw: str, value: str, today: date) -> str:
    _require(raw, IdKind.RESIDENT_ID, value, _RESIDENT_CHARS, 18)
    if "X" in value[:17]:
        raise _bad_character(raw, IdKind.RESIDENT_ID, "X", value.index("X") + 1)
    if not _region_ok(value):
        raise IdentifierError(
            raw,
            IdKind.RESIDENT_ID,
            "bad_region_code",
            "region code (positions 1–6) does not start with a known province code",
        )
    _check_birth_date(raw, value[6:14], today)
    _check_char(
        raw,
        IdKind.RESIDENT_ID,
        "bad_check_character",
        "check character",
        compute_resident_id_check(value[:17]),
        value[17],
    )
    return value


def _check_birth_date(raw: str, digits: str, today: date) -> None:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        reason = "birth date (positions 7–14) is not a real calendar date"
    else:
        if _EARLIEST_BIRTH <= born <= today:
            return
        reason = "birth date (positions 7–14) must be between 1900-01-01 and today"
    raise IdentifierError(raw, IdKind.RESIDENT_ID, "bad_birth_date", reason)


def _validate_registration_no(raw: str, value: str, today: date) -> str:
    _require(raw, IdKind.REGISTRATION_NO, value, _DIGITS, 15)
    return value


def _validate_passport(raw: str, value: str, today: date) -> str:
    if not 8 <= len(value) <= 9:
        raise IdentifierError(
            raw,
            IdKind.PASSPORT,
            "bad_length",
            f"passport must have 8 or 9 characters, got {len(value)}",
        )
    if not _PASSPORT_RE.fullmatch(value):
        raise IdentifierError(
            raw,
            IdKind.PASSPORT,
            "bad_format",
            "passport must be 1–2 letters followed by 7–8 digits",
        )
    return value


_VALIDATORS: dict[IdKind, Callable[[str, str, date], str]] = {
    IdKind.USCC: _validate_uscc,
    IdKind.ORG_CODE: _validate_org_code,
    IdKind.RESIDENT_ID: _validate_resident_id,
    IdKind.REGISTRATION_NO: _validate_registration_no,
    IdKind.PASSPORT: _validate_passport,
}


# --- parsing ----------------------------------------------------------------------


def _normalise(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip().upper()


def _looks_like_resident_id(value: str) -> bool:
    return (
        not value[:17].strip(_DIGITS)
        and value[17] in _RESIDENT_CHARS
        and _LOOKS_LIKE_BIRTH_DATE.fullmatch(value[6:14]) is not None
    )


def _detect_and_validate(raw: str, value: str, today: date) -> Identifier:
    """Auto-detection; an 18-character value tries resident id, then USCC.

    A value that is a 17-digit string with a digit or X at the end and a plausible
    birth date at positions 7–14 is reported as a resident id when it is valid as
    neither (so a wrong check digit says so); other 18-character values as a USCC.
    A 9-character value that has the passport shape is a passport; other 9-character
    values (and ``XXXXXXXX-X``) are organisation codes. Pass ``kind`` to resolve
    those ambiguities from the field the value came from.
    """
    if len(value) == 18:
        if _looks_like_resident_id(value):
            try:
                return Identifier(IdKind.RESIDENT_ID, _validate_resident_id(raw, value, today))
            except IdentifierError as resident_error:
                try:
                    return Identifier(IdKind.USCC, _validate_uscc(raw, value, today))
                except IdentifierError:
                    raise resident_error from None
        return Identifier(IdKind.USCC, _validate_uscc(raw, value, today))
    if len(value) == 15 and all(c in _DIGITS for c in value):
        return Identifier(IdKind.REGISTRATION_NO, value)
    if _PASSPORT_RE.fullmatch(value):
        return Identifier(IdKind.PASSPORT, value)
    if len(value) == 9 or (len(value) == 10 and value[8] == "-"):
        return Identifier(IdKind.ORG_CODE, _validate_org_code(raw, value, today))
    raise IdentifierError(
        raw,
        None,
        "unknown_format",
        f"not a recognised identifier format ({len(value)} characters)",
    )


def parse_identifier(
    raw: str, kind: IdKind | None = None, *, today: date | None = None
) -> Identifier:
    """Normalise and validate ``raw``; detect its kind when ``kind`` is None.

    ``today`` bounds resident-id birth dates (default: ``date.today()``).
    Raises :class:`IdentifierError` with the precise reason.
    """
    if raw.isascii():  # NFKC leaves ASCII as it is
        value = raw.strip().upper()
        common = _common_kind(value, today)
        if common is not None and (kind is None or kind is common):
            return Identifier(common, value)
    return _parse_in_full(raw, kind, today)


def _parse_in_full(raw: str, kind: IdKind | None, today: date | None) -> Identifier:
    """Every rule in the standards' order, every error worded: what `parse_identifier`
    does for every value outside `_common_kind`'s shapes (and the reference it is
    tested against)."""
    as_of = date.today() if today is None else today
    value = _normalise(raw)
    if kind is None:
        return _detect_and_validate(raw, value, as_of)
    return Identifier(kind, _VALIDATORS[kind](raw, value, as_of))


# --- the common shapes, decided in a few C calls -------------------------------------
#
# Why: every check parses the identifier it is asked about, and the full parser above
# (three alphabet scans, the check sums character by character, the date read per
# call) was 10-17 % of a check's CPU (docs/benchmarks.md). Nearly every value a check
# carries is a valid USCC or resident id in ASCII: `_common_kind` says so, or gives
# up (None) and the full parser decides, and words the error. It only ever says what
# the full parser says (tested with hypothesis on valid, mutated and random values).
#
# The weighted sums are the standards' own, read as numbers in another base: the
# weights are powers modulo the check's modulus (GB 11643: 2^(17-i) mod 11; GB 11714:
# 2^(8-i) mod 11; GB 32100: 3^i mod 31), and a base congruent to 2 (resp. 3) turns
# `int(text, base)`, which runs in C, into the same sum modulo 11 (resp. 31):
# 13 ≡ 35 ≡ 2 (mod 11), 34 ≡ 3 (mod 31). USCC characters are first rewritten as the
# base-36 digit of their USCC value (J = 18 is written I, ...: a bytes table, the
# bytes' translate is 2x the str's); the organisation code
# inside a USCC needs no rewriting (its values are base-36 digits, at most Y = 34).

_USCC_AS_DIGITS = bytes.maketrans(USCC_ALPHABET.encode(), b"0123456789ABCDEFGHIJKLMNOPQRSTU")
_ORG_CHECKS = "0X987654321"  # GB 11714's check character by the weighted sum mod 11


def _common_kind(value: str, today: date | None) -> IdKind | None:
    """USCC or RESIDENT_ID if `value` (normalised) is a valid one of them, as the full
    parser would detect it; None when it may be anything else (let the full parser say)."""
    if len(value) != 18:
        return None
    if _looks_like_resident_id(value):
        return IdKind.RESIDENT_ID if _valid_resident_id(value, today) else None
    return IdKind.USCC if _valid_uscc(value) else None


def _valid_uscc(value: str) -> bool:
    return (
        not value.strip(USCC_ALPHABET)
        and value[2:8].isdigit()
        and value[16] == _ORG_CHECKS[2 * int(value[8:16], 35) % 11]
        and value[17]
        == USCC_ALPHABET[-int(value[16::-1].encode().translate(_USCC_AS_DIGITS), 34) % 31]
    )


def _valid_resident_id(value: str, today: date | None) -> bool:
    """For a value `_looks_like_resident_id` accepted: 17 digits, a digit or X, and
    positions 7-14 of the shape 18|19|20 YY, month 01-12, day 01-31."""
    if not _region_ok(value):
        return False
    born = int(value[6:14])
    as_of = date.today() if today is None else today
    if not 19000101 <= born <= as_of.year * 10000 + as_of.month * 100 + as_of.day:
        return False
    if born % 100 > 28 and not _calendar_day(born):  # up to the 28th: every month has it
        return False
    return value[17] == _RESIDENT_CHECKS[2 * int(value[:17], 13) % 11]


def _calendar_day(yyyymmdd: int) -> bool:
    try:
        date(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100)
    except ValueError:
        return False
    return True


def org_code_of_uscc(uscc: str) -> str:
    """The organisation code (GB 11714) embedded at positions 9–17 of a valid USCC."""
    return parse_identifier(uscc, IdKind.USCC).value[8:17]


# --- masking ----------------------------------------------------------------------


def _mask_keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def _mask_resident_id(value: str) -> str:
    return value[:6] + "*" * 8 + value[-4:]


def mask(value: str) -> str:
    """Display form of any identifier string, safe for logs and screens.

    Valid values: as :attr:`Identifier.masked` (``110101********002X``; passports keep
    2 + 2; organisation ids in clear). Invalid values are masked conservatively: an
    18-character value that looked like a resident id as a resident id, anything else
    keeping only its first 2 and last 2 characters (all masked when 4 or shorter).
    """
    try:
        return parse_identifier(value).masked
    except IdentifierError as error:
        normalised = _normalise(value)
        if error.kind is IdKind.RESIDENT_ID and len(normalised) == 18:
            return _mask_resident_id(normalised)
        return _mask_keep(normalised, 2, 2)


def display(value: str, in_clear: bool) -> str:
    """`value` in clear for a caller allowed to see identity numbers, else masked."""
    return value if in_clear else mask(value)


def sees_in_clear(*, privileged: bool, department: str | None, designated_by: str | None) -> bool:
    """Whether a caller sees the identity numbers of a designation in clear.

    Masking protects third parties: the department that designated the subject (it
    supplied the numbers) and callers with the right to see identity numbers (auditors)
    see them in full; every other caller, including a department that only executes a
    measure of the designation, sees the masked form."""
    return privileged or (department is not None and department == designated_by)


# Shapes a personal number can have inside free JSON (GB 11643 resident id; mainland
# passports): `mask` then decides, so organisation codes that look alike stay in clear.
_PERSONAL_SHAPE = re.compile(r"[0-9]{17}[0-9Xx]|[A-Z]{1,2}[0-9]{7,8}")


def mask_personal_numbers(value: object) -> object:
    """A JSON-like `value` with every personal identity number in it masked (strings
    that merely contain one, such as names or reasons, are left as they are)."""
    if isinstance(value, str):
        return mask(value) if _PERSONAL_SHAPE.fullmatch(value) else value
    if isinstance(value, dict):
        return {k: mask_personal_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_personal_numbers(v) for v in value]
    return value


_PERSONAL_JSON = re.compile(rb'"([0-9]{17}[0-9Xx]|[A-Z]{1,2}[0-9]{7,8})"(?!:)')
"""A JSON string value (not a key: no colon after it) that is wholly of a personal
number's shape, unless its opening quote is escaped (`mask_personal_numbers_json`)."""


_IDENTIFIER_CHARS = bytes.maketrans(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"0" * 36)
"""Every ASCII digit and capital letter as `0`: a number-shaped string's opening
quote is then found by a substring search (`_CANDIDATE`)."""
_CANDIDATE = b'"' + b"0" * 7
"""A quote and seven digits or capitals: what every match of `_PERSONAL_JSON` starts
with (eighteen digits; or one or two capitals and seven or eight digits)."""


def mask_personal_numbers_json(raw: bytes) -> bytes:
    """`mask_personal_numbers` done on serialised compact JSON (no space before a
    colon, as orjson and `json.dumps(separators=(",", ":"))` write it): one pass over
    the bytes instead of a walk of the tree — for answers of megabytes. The same
    result as serialising `mask_personal_numbers(value)` (tested on random trees).

    A match whose quote follows a backslash (an escaped quote inside another string)
    is skipped and the search goes on from the next byte: the same matches as the
    lookbehind `(?<!\\)"…`, which made the regex engine try the lookbehind at every
    byte — 3× slower over a status of megabytes (tested equal on random bytes).

    Where it looks: only at the quotes followed by seven digits or capitals (found by
    a substring search over the bytes with each of those made `0`), in order — the
    same matches as trying the pattern at every quote (the ~340,000 quotes of the 2.6
    MB status of the 10,000-event subject), in a fraction of the time
    (docs/benchmarks.md, Ledger, "One subject's reads (session 10)")."""
    find = raw.translate(_IDENTIFIER_CHARS).find
    match_at = _PERSONAL_JSON.match
    out: list[bytes] = []
    done = 0
    at = find(_CANDIDATE)
    while at >= 0:
        match = match_at(raw, at)
        if match is None or (at > 0 and raw[at - 1] == 0x5C):  # none, or an escaped quote
            at = find(_CANDIDATE, at + 1)
            continue
        out += (raw[done:at], b'"', mask(match.group(1).decode()).encode(), b'"')
        done = match.end()
        at = find(_CANDIDATE, done)
    if not out:
        return raw
    out.append(raw[done:])
    return b"".join(out)


# --- subjects with several identifiers --------------------------------------------


def canonical_subject_id(identifiers: Iterable[Identifier]) -> str:
    """The subject id: the USCC, else the resident id, else the organisation code,
    else the registration number, else the passport number — the bare value, never
    prefixed (``SubjectIdentity.subject_kind`` tells persons from organisations).

    Among several values of the chosen kind the smallest is taken, so the result does
    not depend on the order. Raises ``no_identifier`` on empty input,
    ``mixed_subject_kinds`` when person and organisation identifiers are mixed and
    ``conflicting_identifiers`` for two different USCCs or resident ids.
    """
    return _identity_of(tuple(identifiers)).subject_id


def derive_identity(raws: Iterable[str], *, today: date | None = None) -> SubjectIdentity:
    """Parse (auto-detecting kinds) and group raw identifiers of one subject."""
    return _identity_of(tuple(parse_identifier(raw, today=today) for raw in raws))


def _identity_of(identifiers: tuple[Identifier, ...]) -> SubjectIdentity:
    if not identifiers:
        raise IdentifierError("", None, "no_identifier", "a subject needs at least one identifier")
    kinds = {identifier.subject_kind for identifier in identifiers}
    if len(kinds) > 1:
        raise IdentifierError(
            ",".join(identifier.value for identifier in identifiers),
            None,
            "mixed_subject_kinds",
            "person and organisation identifiers cannot belong to one subject",
        )
    ordered: list[Identifier] = []
    for kind in _CANONICAL_ORDER:
        values = sorted({i.value for i in identifiers if i.kind is kind})
        if kind in _UNIQUE_PER_SUBJECT and len(values) > 1:
            raise IdentifierError(
                ",".join(values),
                kind,
                "conflicting_identifiers",
                f"a subject cannot have {len(values)} different {kind.value} values",
            )
        ordered.extend(Identifier(kind, value) for value in values)
    return SubjectIdentity(ordered[0].value, tuple(ordered), kinds.pop())
