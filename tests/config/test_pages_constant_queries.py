"""The on-call pages, a service's integrations page and the maintenance-windows API run a constant
number of queries, whatever the number of rotations, overrides, members, integrations or windows."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.services import create_integration
from incidents.services import create_maintenance_window
from oncall.models import Membership
from oncall.services import create_override, create_rotation
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fill(n, *, payments, checkout, alice, bob):
    """n more of everything these pages list: members, rotations with overrides, integrations, windows."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for i in range(n):
        person = UserFactory(username=f"p{Membership.objects.count()}-{i}")
        MembershipFactory(team=payments, user=person)
        rotation = create_rotation(team=payments, name=f"Rotation {Membership.objects.count()}-{i}",
                                   layer="primary" if i % 2 else "secondary", participants=[alice, bob, person],
                                   shift_length="P1D", handoff_at=(start - timedelta(days=3)).replace(tzinfo=None),
                                   timezone="Europe/Berlin")
        create_override(rotation=rotation, user=person, start=start + timedelta(hours=i + 1),
                        end=start + timedelta(hours=i + 3))
        create_integration(service=checkout, kind="webhook", name=f"Hook {rotation.pk}", by=alice)
        create_maintenance_window(service=checkout, starts_at=timezone.now() + timedelta(days=i + 1),
                                  ends_at=timezone.now() + timedelta(days=i + 1, hours=1), by=alice)


@pytest.mark.parametrize("url", [
    "/oncall/", "/oncall/me/", "/oncall/teams/payments/", "/oncall/teams/payments/load/",
    "/oncall/teams/payments/load.csv", "/services/checkout/integrations/", "/services/checkout/maintenance/",
    "/api/v1/maintenance-windows/", "/api/v1/overrides/", "/api/v1/rotations/",
])
def test_a_page_or_list_costs_the_same_queries_with_few_or_many_rows(
        client, alice, bob, payments, checkout, django_assert_max_num_queries, url):
    _fill(2, payments=payments, checkout=checkout, alice=alice, bob=bob)
    client.force_login(alice)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _fill(12, payments=payments, checkout=checkout, alice=alice, bob=bob)
    with django_assert_max_num_queries(len(few)):
        assert client.get(url).status_code == 200
