"""An impact start far outside the calendar we use is refused, so the incident stays readable.

A year-1 reading typed by alice (Europe/Berlin) is an instant in year 0:
PostgreSQL would store it and then fail every read of the row (the lists,
the API, the incident page); SQLite refused it with a 500 on the write.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from incidents.models import Incident
from incidents.services import create_incident, update_incident
from tests.factories import make_incident, severity

pytestmark = pytest.mark.django_db

RANGE = "give a date and time between the years 1900 and 9000 (UTC)"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)  # her time zone is Europe/Berlin: forms read dates in it
    return client


def _declare_data(team, **overrides):
    data = {"title": "Card payments declined", "severity": severity("SEV1").pk, "category": "outage",
            "team": team.pk, "description": "", "impact": "", "started_at": "", "users_affected": "",
            "revenue_impact": ""}
    data.update(overrides)
    return data


def _pages_still_load(client, incident=None):
    urls = ["/", "/incidents/", "/api/v1/incidents/"]
    if incident is not None:
        urls += [f"/incidents/{incident.number}/", f"/api/v1/incidents/{incident.number}/"]
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_declaring_with_a_year_one_start_is_refused_on_its_field(alice_client, payments):
    response = alice_client.post("/incidents/new/", _declare_data(payments, started_at="0001-01-01T00:00"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "0001-01-01 00:00 is outside the dates Vigil accepts" in page and RANGE in page
    assert response.context["form"].errors["started_at"]
    assert not Incident.objects.exists()
    _pages_still_load(alice_client)


def test_editing_to_a_year_one_start_is_refused_and_keeps_the_stored_start(alice_client, alice, payments):
    incident = make_incident(team=payments, by=alice)
    before = incident.started_at

    response = alice_client.post(f"/incidents/{incident.number}/edit/", {
        "title": incident.title, "severity": incident.severity.pk, "category": incident.category,
        "started_at": "0001-01-01T00:00", "reason": "typo"})

    assert response.status_code == 200
    assert RANGE in response.content.decode()
    incident.refresh_from_db()
    assert incident.started_at == before
    _pages_still_load(alice_client, incident)


def test_a_start_in_range_is_still_read_in_my_time_zone(alice_client, payments):
    response = alice_client.post("/incidents/new/", _declare_data(payments, started_at="1900-01-01T01:30"))

    assert response.status_code == 302
    # 01:30 in Berlin (UTC+1 in winter) is 00:30 UTC: just inside the range.
    assert Incident.objects.get().started_at.isoformat() == "1900-01-01T00:30:00+00:00"


@pytest.mark.parametrize("started_at", [datetime(1, 1, 1, tzinfo=BERLIN), datetime(1899, 12, 31, 23, 59, tzinfo=BERLIN)])
def test_the_service_refuses_out_of_range_starts_for_every_caller(alice, payments, started_at):
    # The API and the admin call these services too.
    with pytest.raises(ValidationError) as declared:
        create_incident(title="t", severity=severity(), team=payments, by=alice, started_at=started_at)
    assert RANGE in declared.value.message_dict["started_at"][0]
    assert not Incident.objects.exists()

    incident = make_incident(team=payments, by=alice)
    with pytest.raises(ValidationError) as edited:
        update_incident(incident=incident, by=alice, started_at=started_at)
    assert RANGE in edited.value.message_dict["started_at"][0]
    incident.refresh_from_db()
    assert incident.started_at is None


def test_the_api_refuses_a_year_one_start_with_a_400(api, alice, payments):
    response = api.as_user(alice).post("/api/v1/incidents/", {
        "title": "t", "severity": "SEV2", "team": "payments", "started_at": "0001-01-01T00:00:00Z"}, format="json")

    assert response.status_code == 400
    assert RANGE in response.data["started_at"][0]
    assert not Incident.objects.exists()
