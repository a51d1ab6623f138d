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


class SpanUnit(StrEnum):
    """The unit a document states a period or deadline in (issue 9, item 5)."""

    WORKING_DAYS = "working_days"  # 工作日: mainland-China working days
    CALENDAR_DAYS = "calendar_days"  # 日: calendar days
    DAYS = "days"  # whole 24-hour days counted from the starting instant (legacy data)
    MONTHS = "months"  # 月: to the end of the corresponding day (民法典 第二百零二条)
    YEARS = "years"  # 年: to the end of the anniversary day (民法典 第二百零二条)


class LevelSchemeKind(StrEnum):
    GRADED = "graded"  # 分级: the level decides the measures (防止惩戒过度)
    FIXED = "fixed"  # no levels: membership of the list is the sanction


class CaseFact(StrEnum):
    """Facts of the case a measure may depend on (issue 9, item 2)."""

    EXIT_RESTRICTION_DECIDED = "exit_restriction_decided"  # 限制出境决定 (a court decision)
    UNPAID_TAX_WITHOUT_SECURITY = "unpaid_tax_without_security"  # 欠税未结清且未提供担保
    PENALTY_OR_DISMISSAL = "penalty_or_dismissal"  # 受刑事处罚或撤职处分 (dated)
