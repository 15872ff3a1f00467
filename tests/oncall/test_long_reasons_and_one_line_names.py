"""A long change reason never makes a change fail; names and titles are one line."""

import pytest

from incidents.models import Incident, Severity
from oncall.models import Membership, Override
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def rotation(make_rotation, alice, bob):
    return make_rotation(name="Payments primary", participants=[alice, bob])


def test_an_override_with_a_200_character_reason_is_stored_with_its_history(api, rotation, bob):
    reason = "Covering for Alice during the quarterly offsite; " * 4
    response = api.as_user(bob).post("/api/v1/overrides/", {
        "rotation": rotation.pk, "user": "bob", "start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z",
        "reason": reason[:200],
    }, format="json")
    assert response.status_code == 201, response.content
    override = Override.objects.get(pk=response.json()["id"])
    assert override.history.count() >= 1


def test_a_team_of_seven_changes_its_rotation(client, make_rotation, alice, bob, payments):
    people = [alice, bob]
    for i in range(5):
        person = UserFactory(username=f"responder-number-{i}", full_name=f"Responder {i}")
        MembershipFactory(team=payments, user=person, role=Membership.Role.MEMBER)
        people.append(person)
    rotation = make_rotation(name="Weekly", participants=[alice, bob], handoff_at="2030-01-07T09:00")
    client.force_login(alice)
    form = {"rotation": rotation.pk, "participants": ", ".join(p.username for p in reversed(people)),
            "start": "2030-01-14T09:00"}
    response = client.post("/oncall/teams/payments/participants/", form)
    assert response.status_code == 302, response.content
    reason = rotation.history.first().history_change_reason
    assert len(reason) > 100 and all(p.username in reason for p in people)


@pytest.mark.parametrize("name", ["Payments\nX-Injected: yes", "Tab\there", "Bell\x07"])
def test_a_team_name_with_a_control_character_is_refused(api, alice, name):
    response = api.as_user(alice).patch("/api/v1/teams/payments/", {"name": name}, format="json")
    assert response.status_code == 400
    assert "one line" in response.json()["detail"]


def test_the_calendar_feed_of_a_team_stays_valid(client, api, alice, rotation, payments):
    api.as_user(alice).patch("/api/v1/teams/payments/", {"name": "Payments\r\nBEGIN:VEVENT"}, format="json")
    payments.refresh_from_db()
    assert "\n" not in payments.name


@pytest.mark.parametrize("title", ["Checkout\ndown", "Checkout\x1b[31m down"])
def test_an_incident_title_with_a_control_character_is_refused(api, alice, payments, title):
    response = api.as_user(alice).post("/api/v1/incidents/", {"title": title, "severity": "SEV2",
                                                              "team": "payments"}, format="json")
    assert response.status_code == 400
    assert "title" in response.json()


def test_the_incident_form_refuses_a_title_with_a_newline(client, alice, payments):
    client.force_login(alice)
    sev2 = Severity.objects.get(name="SEV2")
    response = client.post("/incidents/new/", {"title": "Two\nlines", "severity": sev2.pk, "team": payments.pk,
                                               "category": "outage"})
    assert response.status_code == 200  # the form again, nothing declared
    assert b"one line" in response.content
    assert not Incident.objects.filter(team=payments).exists()
