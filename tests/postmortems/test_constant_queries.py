"""The postmortem lists, pages and API lists run a constant number of queries, however many rows they show."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from postmortems.models import FactorTag
from postmortems.services import add_factor, create_action_item, request_review, start_postmortem

from .conftest import declare, drive

pytestmark = pytest.mark.django_db


def _fill(n, *, payments, alice, bob):
    """n more resolved incidents, each with a postmortem, two action items, a factor and a reviewer."""
    tag = FactorTag.objects.filter(team=None).first()
    for _ in range(n):
        incident = drive(declare(payments, alice, "SEV3"), by=alice, commander=bob)
        postmortem = start_postmortem(incident=incident, by=alice)
        for title in ("One", "Two"):
            create_action_item(incident=incident, by=alice, title=title, owner=bob,
                               due_at=timezone.now() - timedelta(days=1))
        add_factor(postmortem=postmortem, tag=tag, description="x", by=alice)
        request_review(postmortem=postmortem, reviewers=[alice], by=bob)
    return postmortem


@pytest.mark.parametrize("url", [
    "/postmortems/", "/postmortems/?scope=mine", "/postmortems/?scope=team&status=unpublished",
    "/postmortems/action-items/mine/", "/postmortems/action-items/team/payments/?show=all",
    "/api/v1/postmortems/", "/api/v1/action-items/", "/postmortems/{last}/", "/api/v1/postmortems/{last}/",
    "/incidents/{number}/",
])
def test_a_list_or_page_costs_the_same_queries_with_few_or_many_rows(
        client, payments, alice, bob, django_assert_max_num_queries, url):
    first = _fill(2, payments=payments, alice=alice, bob=bob)
    client.force_login(bob)
    target = url.format(last=first.pk, number=first.incident.number)
    with CaptureQueriesContext(connection) as few:
        assert client.get(target).status_code == 200
    for _ in range(4):  # the same postmortem (and incident) gains rows too
        create_action_item(incident=first.incident, by=alice, title="More", owner=bob)
    _fill(8, payments=payments, alice=alice, bob=bob)
    with django_assert_max_num_queries(len(few)):
        assert client.get(target).status_code == 200
