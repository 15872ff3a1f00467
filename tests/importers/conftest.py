"""Importer fixtures: a local fake PagerDuty (``pagerduty``) and ``import_oncall`` run as a person would."""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.importers.pagerduty_fake import NOW, TOKEN, FakePagerDuty


@pytest.fixture
def pagerduty():
    with FakePagerDuty() as server:
        yield server


@pytest.fixture
def import_oncall(db):
    """``import_oncall(*args)``: the command's output; it is 'now' at the fixtures' NOW unless told otherwise."""

    def run(*args: str) -> str:
        out = StringIO()
        call_command("import_oncall", *args, *(() if any(a.startswith("--now") for a in args) else
                                                ("--now", NOW.isoformat())), stdout=out)
        return out.getvalue()

    return run


@pytest.fixture
def from_pagerduty(pagerduty, import_oncall):
    """Run the command against the fake PagerDuty with a good token."""

    def run(*args: str) -> str:
        return import_oncall("--from", "pagerduty", "--url", pagerduty.url, "--token", TOKEN, *args)

    return run
