"""Fresh, valid subject identifiers for tests: each test designates its own subjects."""

from __future__ import annotations

import random
import secrets

from shared.domain.identifiers import (
    USCC_ALPHABET,
    compute_org_code_check,
    compute_resident_id_check,
    compute_uscc_check,
)


def new_uscc() -> str:
    """A valid unified social credit code nobody else in the test run uses."""
    rng = random.Random(secrets.randbits(64))
    body8 = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    body8 = "".join(c if c in USCC_ALPHABET else "0" for c in body8)
    org = body8 + compute_org_code_check(body8)
    first17 = "91" + "110105" + org
    return first17 + compute_uscc_check(first17)


def new_resident_id() -> str:
    rng = random.Random(secrets.randbits(64))
    birth = f"{rng.randint(1950, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = "110105" + birth + f"{rng.randint(0, 999):03d}"
    return first17 + compute_resident_id_check(first17)
