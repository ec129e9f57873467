"""Fixtures for the registry's tests: members in each role and a record factory that goes
through the services (so facets and the full-text index are written as in real use)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hub.models import Member, Role
from hub.registry import actions
from hub.registry.kinds import PUBLISHED
from hub.registry.models import Record


@pytest.fixture
def secretariat(make_member: Callable[..., Member]) -> Member:
    return make_member("sec@example.org", role=Role.SECRETARIAT, name="Sam Secretariat",
                       organization="Network Secretariat", country="CA", region="weog")


@pytest.fixture
def owner(make_member: Callable[..., Member]) -> Member:
    return make_member("focal@example.org", name="Wanjiru Focal",
                       organization="National Biosafety Authority", country="KE")


@pytest.fixture
def other(make_member: Callable[..., Member]) -> Member:
    return make_member("other@example.org", name="Olu Other", country="GH")


DEFAULTS: dict[str, dict[str, Any]] = {
    "projects": {"title": "A project", "thematic_areas": ["risk-assessment"],
                 "status": "ongoing"},
    "opportunities": {"title": "An opportunity", "type": "training",
                      "thematic_areas": ["risk-assessment"]},
    "needs": {"country": "KE", "thematic_areas": ["risk-assessment"],
              "needs": ["Training of regulators"]},
    "resources": {"title": "A resource", "type": "manual"},
    "reports": {"title": "A report", "type": "progress"},
}


@pytest.fixture
def make_record(secretariat: Member) -> Callable[..., Record]:
    """make_record(kind, owner=..., state="published", **fields) through the services."""

    def make(kind: str, owner: Member | None = None, state: str = PUBLISHED,
             **fields: Any) -> Record:
        data = {**DEFAULTS[kind], **fields}
        by = owner or secretariat
        record = actions.create_record(by, kind, data,
                                        state="submitted" if state == PUBLISHED else state,
                                        notify=False)
        if state == PUBLISHED:
            actions.publish_record(secretariat, record)
        return record

    return make


@pytest.fixture
def token(token_for: Callable[[Member], dict[str, str]]) -> Callable[[Member], dict[str, str]]:
    return token_for
