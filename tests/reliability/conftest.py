"""The reliability suite's stack: the four services as processes on topics and
schemas of their own (the notifier allowed to deliver to loopback receivers), one
for the package: each test works on subjects of its own, and the crash test leaves
every service running again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.infra import Infra
from tests.support.notifier_stack import notifier_stack
from tests.support.stack import Stack


@pytest.fixture(scope="package")
def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from notifier_stack(infra, tmp_path_factory)
