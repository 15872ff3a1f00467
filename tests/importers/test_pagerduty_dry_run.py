"""A dry run (the default) reads everything, pages through lists, waits out a rate limit, writes nothing."""

import re

from alerts.models import Integration
from importers.models import ImportedObject
from incidents.models import Service
from oncall.models import EscalationPolicy, Membership, Override, Rotation, Team, User
from paging.models import ContactMethod
from tests.factories import UserFactory

WRITTEN = (User, Team, Membership, Rotation, Override, EscalationPolicy, Service, Integration, ContactMethod,
           ImportedObject)


def _counts():
    return {model.__name__: model.objects.count() for model in WRITTEN}


def _row(output: str, kind: str) -> list[int]:
    """The numbers of the summary table's row for ``kind``: create, match, exists, skip."""
    line = next(line for line in output.splitlines() if re.fullmatch(rf"{kind}\s+(\d+\s+){{3}}\d+", line.strip()))
    return [int(n) for n in line.split()[-4:]]


def test_dry_run_writes_nothing_and_says_so(from_pagerduty):
    before = _counts()

    output = from_pagerduty()

    assert _counts() == before
    assert "dry run: nothing was written; run again with --apply" in output


def test_dry_run_reports_what_would_come_over_per_kind(from_pagerduty):
    UserFactory(username="amara.o", email="Amara@Example.com")

    output = from_pagerduty("--dry-run")

    assert _row(output, "person") == [11, 1, 0, 0]
    assert "match   amara.o — has the e-mail address amara@example.com" in output
    assert _row(output, "notification rule") == [0, 12, 0, 0]  # e-mail at once: what Vigil gives everyone
    assert _row(output, "team") == [3, 0, 0, 0]
    # 2 + 1 + 3 + 1 layers; the ended one and the team-less schedule's are listed below instead.
    assert _row(output, "rotation") == [7, 0, 0, 0]
    assert _row(output, "policy") == [4, 0, 0, 0]
    assert _row(output, "service") == [4, 0, 0, 0]
    assert _row(output, "integration") == [7, 0, 0, 0]
    # Overrides from now on (PagerDuty leaves out the one that is over) land on every rotation of their schedule.
    assert _row(output, "override") == [2 + 2 + 3 + 1, 0, 0, 0]


def test_dry_run_lists_every_incompatibility_with_its_reason(from_pagerduty):
    output = from_pagerduty()

    not_brought = output.split("Not brought over as it is")[1]
    assert "Ad-hoc launch cover [PS5ADHC]: belongs to no PagerDuty team" in not_brought
    assert "Mobile Business Hours · Old nights [PL8OLDL]: ended before now" in not_brought
    assert "Mobile Escalation, rule 1 [PE3MOBI]: round-robin assignment" in not_brought
    assert "Checkout: Email from the bank [PIN22]: 'generic_email_inbound_integration'" in not_brought
    assert "Kubernetes: Legacy cron checks [PIN32]: an Events API v1 sender" in not_brought
    assert "Leo Novak: Pixel 8 [PPU0011]: Vigil has no push notifications" in not_brought
    assert "Payments Nights, step 1 [PE4PAYN]: its schedule PS3FTSN is another team's" in not_brought
    assert ("notification rule Ben Schulz: high urgency, after 5 min, sms +4915112345678 [PNS0001]: Vigil uses a "
            "rule only with a verified contact method") in not_brought


def test_lists_are_read_page_by_page_and_a_rate_limit_is_waited_out(from_pagerduty, pagerduty):
    from_pagerduty()

    user_pages = [path for path, _ in pagerduty.requests if path.startswith("/users")]
    assert [re.search(r"offset=(\d+)", p)[1] for p in user_pages] == ["0", "5", "10"]  # 12 people, 5 a page
    policy_requests = [path for path, _ in pagerduty.requests if path.startswith("/escalation_policies")]
    assert len(policy_requests) == 2  # the 429, then the same request again after Retry-After
    assert policy_requests[0] == policy_requests[1]
