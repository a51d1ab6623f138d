"""The shared words of the domain (DOMAIN.md §2–§4): levels, polarity, kinds.

Every enum value here is part of the HTTP and event contract: never rename one.
"""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """分级: the gravity of a dishonest act, in increasing order."""

    MINOR = "minor"  # 轻微
    GENERAL = "general"  # 一般
    SERIOUS = "serious"  # 严重
    ESPECIALLY_SERIOUS = "especially_serious"  # 特别严重

    @property
    def rank(self) -> int:
        return _LEVEL_ORDER.index(self)

    def at_least(self, other: Level) -> bool:
        """True when this level is `other` or graver (防止惩戒过度 compares with it)."""
        return self.rank >= other.rank


_LEVEL_ORDER = (Level.MINOR, Level.GENERAL, Level.SERIOUS, Level.ESPECIALLY_SERIOUS)
LEVELS: tuple[Level, ...] = _LEVEL_ORDER


class Polarity(StrEnum):
    SANCTION = "sanction"  # 惩戒 (black list, key-watch list)
    INCENTIVE = "incentive"  # 激励 (red list)


class SubjectKind(StrEnum):
    ORGANIZATION = "organization"  # 法人和非法人组织 (and 个体工商户 for business conduct)
    PERSON = "person"  # 自然人


class MeasureKind(StrEnum):
    ADMINISTRATIVE = "administrative"  # 行政性
    MARKET = "market"  # 市场性
    INDUSTRY = "industry"  # 行业性
    SOCIAL = "social"  # 社会性


class PeriodFrom(StrEnum):
    DECISION = "decision"  # 自认定之日起
    PUBLICATION = "publication"  # 自公布之日起


class ExpiryMode(StrEnum):
    AUTOMATIC = "automatic"  # 期满自动移出
    APPLICATION = "application"  # 期满前申请移出
