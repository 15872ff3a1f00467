"""The incident page as a responder's cockpit: who is on call, where the escalation stands, every
page sent, the responders, and paging someone from it, even from another team."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import Responder
from incidents.queries import timeline
from oncall.models import EscalationPolicy
from paging.models import EscalationRun, Notification
from paging.services.escalation import advance_escalation
from paging.services.pages import page
from tests.factories import UserFactory, make_incident
from tests.paging.cockpit import *  # noqa: F403 - the cockpit's fixtures

pytestmark = pytest.mark.django_db


def panel(client, incident) -> str:
    response = client.get(f"/incidents/{incident.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('id="paging"')
    return html[start:html.index("</section>", start)]


@pytest.fixture
def two_step_policy(payments, payments_primary, alice):
    return EscalationPolicy.objects.create(
        team=payments, name="Payments standard", is_default=True, repeat=1,
        steps=[{"delay_minutes": 10, "targets": [{"type": "layer", "id": "primary"}]},
               {"delay_minutes": 20, "targets": [{"type": "team_leads", "id": payments.pk}]}],
    )


def test_panel_shows_who_is_on_call_for_the_incidents_team_until_when(client, alice, bob, incident, payments_primary):
    client.force_login(bob)
    html = panel(client, incident)
    assert "On call now" in html
    assert "Payments" in html and "primary" in html and "Payments primary" in html
    assert "Alice Archer" in html, "alice holds the first week of the rotation"
    shift_end = timezone.localtime(timezone.now() + timedelta(days=5), timezone.get_default_timezone())
    assert "UTC" in html and shift_end.strftime("%-d %b") in html, "until when, in the reader's zone (bob's: UTC)"


def test_panel_lists_the_on_call_of_the_teams_of_the_incidents_services(client, alice, incident, ivan, platform):
    from incidents.models import Service
    from oncall.services import create_rotation

    database = Service.objects.create(slug="database", name="Database", team=platform)
    incident.services.add(database)
    create_rotation(team=platform, name="Platform primary", participants=[ivan], shift_length="P7D",
                    handoff_at=(timezone.now() - timedelta(days=1)).replace(tzinfo=None, microsecond=0),
                    timezone="UTC", by=ivan)
    client.force_login(alice)
    html = panel(client, incident)
    assert "Platform primary" in html and "Ivan Ivanov" in html


def test_panel_shows_the_escalation_step_and_when_the_next_one_fires(client, alice, two_step_policy, payments):
    incident = make_incident(team=payments, by=alice)  # the payments default policy runs
    run = EscalationRun.objects.get(incident=incident)
    client.force_login(alice)
    assert "Not started yet" in panel(client, incident)
    now = timezone.now()
    advance_escalation(run.pk, now=now)
    html = panel(client, incident)
    assert "Payments standard" in html and "Escalating" in html
    assert "Step 1 of 2, repeat 0 of 1" in html
    assert "Step 2 of 2" in html, "the next step"
    assert "(in 9 min)" in html or "(in 10 min)" in html
    run.refresh_from_db()
    advance_escalation(run.pk, now=run.next_step_at)
    run.refresh_from_db()
    html = panel(client, incident)
    assert "Step 2 of 2, repeat 0 of 1" in html and "Step 1 of 2 again, repeat 1 of 1" in html


def test_panel_lists_every_page_sent_with_its_delivery_state(client, alice, bob, incident, deliver_queued):
    page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice)
    deliver_queued()
    failed = page(incident=incident, targets=[{"type": "user", "id": "alice"}], by=alice)[0]
    Notification.objects.filter(pk=failed.pk).update(status="failed", attempts=5, last_error="SMTP 550 mailbox unavailable")
    client.force_login(alice)
    html = panel(client, incident)
    assert "Pages sent" in html
    assert html.count('class="notification-') == 2
    assert "Bob Baker" in html and "E-mail" in html and "Sent" in html and "By Alice Archer" in html
    assert "Failed" in html and "after 5 attempts" in html and "SMTP 550 mailbox unavailable" in html


def test_page_form_pages_a_person_from_another_team_who_can_then_work_the_incident(client, alice, incident, ivan):
    client.force_login(alice)
    html = panel(client, incident)
    assert f'action="/incidents/{incident.number}/page/#paging"' in html
    assert 'value="user:ivan"' in html and 'value="team:platform"' in html and 'value="team_members:platform"' in html
    response = client.post(f"/incidents/{incident.number}/page/",
                           {"target": "user:ivan", "message": "Need a DBA on the checkout database"})
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.number}/#incident-body"
    followed = client.get(response["Location"]).content.decode()
    assert "Paged Ivan Ivanov: 1 message on the way" in followed
    [notification] = Notification.objects.filter(incident=incident, user=ivan)
    assert "Need a DBA on the checkout database" in notification.body
    responder = Responder.objects.get(incident=incident, user=ivan)
    assert (responder.via, responder.added_by) == ("page", alice)
    html = panel(client, incident)
    assert "Ivan Ivanov" in html and "paged by Alice Archer" in html
    paged = [e.summary for e in timeline(incident) if e.data.get("event") == "paged"]
    assert paged and "Ivan Ivanov" in paged[0] and "Need a DBA" in paged[0]

    # Ivan, of the platform team, may now open the payments incident and work it.
    client.force_login(ivan)
    assert client.get(f"/incidents/{incident.number}/").status_code == 200
    assert client.get("/").content.decode().count(incident.number) >= 1, "on his dashboard too"
    assert client.post(f"/incidents/{incident.number}/notes/", {"body": "Replica lag is 40 s"}).status_code == 302
    response = client.post(f"/incidents/{incident.number}/transition/acknowledge/", {"note": ""})
    assert response.status_code == 302
    response = client.post(f"/incidents/{incident.number}/roles/", {"role": "sme", "user": ivan.pk})
    assert response.status_code == 302, "a responder may be given a role"
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert incident.history.first().history_user == ivan
    assert any(e.kind == "note" and e.actor == ivan for e in timeline(incident))
    # ...that incident only.
    other = make_incident(team=incident.team, by=alice, title="Another payments incident")
    assert client.get(f"/incidents/{other.number}/").status_code == 404


def test_paging_a_teams_on_call_reaches_whoever_is_on_call(client, alice, bob, incident, payments_primary):
    client.force_login(bob)
    response = client.post(f"/incidents/{incident.number}/page/", {"target": "team:payments"})
    assert response.status_code == 302
    assert list(Notification.objects.filter(incident=incident).values_list("user__username", flat=True)) == ["alice"]


def test_a_target_that_reaches_nobody_is_a_400_with_the_reason_in_the_form(client, alice, incident, platform):
    client.force_login(alice)
    response = client.post(f"/incidents/{incident.number}/page/", {"target": "team:platform", "message": "help"})
    assert response.status_code == 400
    html = response.content.decode()
    start = html.index('id="paging"')
    form_html = html[start:]
    assert "Nobody is reached" in form_html and "Page a person instead" in form_html
    assert "<details class=\"page-someone\" open>" in html, "the form is shown open, with what was typed"
    assert "help</textarea>" in html
    assert not Notification.objects.filter(incident=incident).exists()


@pytest.mark.parametrize("target", ["user:nobody", "rotation:999999", "bogus", ""])
def test_an_unknown_target_is_a_400_not_a_500(client, alice, incident, target):
    client.force_login(alice)
    response = client.post(f"/incidents/{incident.number}/page/", {"target": target})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode() or "This field is required" in response.content.decode()


def test_a_deactivated_person_cannot_be_chosen(client, alice, incident):
    UserFactory(username="gone", full_name="Gone Person", is_active=False)
    client.force_login(alice)
    assert 'value="user:gone"' not in panel(client, incident)
    assert client.post(f"/incidents/{incident.number}/page/", {"target": "user:gone"}).status_code == 400


def test_an_outsider_can_neither_see_the_panel_nor_page(client, charlie, incident):
    client.force_login(charlie)
    assert client.get(f"/incidents/{incident.number}/").status_code == 404
    assert client.post(f"/incidents/{incident.number}/page/", {"target": "user:charlie"}).status_code == 404
    assert client.get(f"/incidents/{incident.number}/paging/", HTTP_HX_REQUEST="true").status_code == 404
    assert not Notification.objects.filter(incident=incident).exists()


def test_the_panels_live_part_is_a_fragment_for_htmx_and_the_page_without(client, alice, bob, incident):
    page(incident=incident, targets=[{"type": "user", "id": "bob"}], by=alice)
    client.force_login(alice)
    response = client.get(f"/incidents/{incident.number}/paging/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith("<div id=\"paging-live\"") and "<html" not in html and "<body" not in html
    assert 'hx-trigger="every 15s"' in html and "Bob Baker" in html
    assert "Page someone" not in html, "the form is not refreshed under the typing hand"
    response = client.get(f"/incidents/{incident.number}/paging/")
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.number}/#paging"


def _page_many(incident, by, n):
    for i in range(n):
        person = UserFactory(username=f"expert{Notification.objects.count()}-{i}")
        page(incident=incident, targets=[{"type": "user", "id": person.username}], by=by)


@pytest.mark.parametrize("url", ["/incidents/{}/", "/incidents/{}/paging/"])
def test_the_panel_costs_the_same_queries_with_few_or_many_pages_and_responders(
        client, alice, incident, payments_primary, two_step_policy, django_assert_max_num_queries, url):
    url = url.format(incident.number)
    _page_many(incident, alice, 2)
    client.force_login(alice)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, HTTP_HX_REQUEST="true" if "paging" in url else None).status_code == 200
    _page_many(incident, alice, 12)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url, HTTP_HX_REQUEST="true" if "paging" in url else None)
    assert response.status_code == 200 and response.content.decode().count('class="notification-') == 14
