"""An incident whose postmortem is required may not close until it is published: the API answers 409
``postmortem_required``, the incident page says why. Staff may close it anyway, with a reason that goes on
the timeline."""

import pytest
from django.core.exceptions import ValidationError

from incidents.guards import ClosingRefused
from incidents.queries import timeline
from incidents.services import transition_incident
from postmortems.models import PostmortemPolicy
from postmortems.services import start_postmortem, transition_postmortem

from .conftest import declare, drive

pytestmark = pytest.mark.django_db


def publish(postmortem, *, owner, reviewer):
    postmortem = transition_postmortem(postmortem=postmortem, transition="submit", by=owner)
    postmortem = transition_postmortem(postmortem=postmortem, transition="approve", by=reviewer)
    return transition_postmortem(postmortem=postmortem, transition="publish", by=owner)


def test_closing_before_the_postmortem_is_published_is_refused_with_its_code(api, resolved_sev1, alice):
    response = api.as_user(alice).post(f"/api/v1/incidents/{resolved_sev1.number}/close/", {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "postmortem_required" and body["status"] == "resolved"
    assert "cannot be closed until its postmortem is published (it is draft)" in body["detail"]
    resolved_sev1.refresh_from_db()
    assert resolved_sev1.status == "resolved"


def test_once_published_the_incident_closes(api, resolved_sev1, alice, bob):
    publish(resolved_sev1.postmortem, owner=bob, reviewer=alice)
    response = api.as_user(alice).post(f"/api/v1/incidents/{resolved_sev1.number}/close/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"


def test_a_required_postmortem_that_was_never_started_also_blocks_closing(payments, alice):
    PostmortemPolicy.objects.filter(severity__name="SEV3").update(required=True, due_hours=24)
    incident = drive(declare(payments, alice, "SEV3"), by=alice)
    incident.postmortem.delete()  # as if resolved before the policy said so
    with pytest.raises(ClosingRefused, match="a SEV3 needs one"):
        transition_incident(incident=incident, transition="close", by=alice)


def test_an_optional_postmortem_does_not_keep_a_sev3_open(payments, alice):
    incident = drive(declare(payments, alice, "SEV3"), by=alice)
    start_postmortem(incident=incident, by=alice)
    assert transition_incident(incident=incident, transition="close", by=alice).status == "closed"


def test_the_incident_page_says_why_it_cannot_close(client, resolved_sev1, alice):
    client.force_login(alice)
    response = client.post(f"/incidents/{resolved_sev1.number}/transition/close/", {"note": ""}, follow=True)
    page = response.content.decode()
    assert "cannot be closed until its postmortem is published (it is draft)" in page
    assert "Close it anyway" not in page  # staff only
    resolved_sev1.refresh_from_db()
    assert resolved_sev1.status == "resolved"


def test_staff_close_it_anyway_from_the_page_and_the_reason_is_on_the_timeline(client, resolved_sev1, sam):
    client.force_login(sam)
    page = client.get(f"/incidents/{resolved_sev1.number}/").content.decode()
    assert "Close it anyway (staff)" in page
    response = client.post(f"/incidents/{resolved_sev1.number}/close-anyway/",
                           {"reason": "Vendor outage; the vendor's report stands in for ours"})
    assert response.status_code == 302
    resolved_sev1.refresh_from_db()
    assert resolved_sev1.status == "closed"
    closed = [e for e in timeline(resolved_sev1) if e.kind == "status_changed" and e.data["to"] == "closed"]
    assert closed[0].actor == sam
    assert closed[0].summary == ("Status resolved → closed: Closed by staff override (postmortem_required): "
                                 "Vendor outage; the vendor's report stands in for ours")


def test_staff_override_through_the_api_needs_a_reason(api, resolved_sev1, sam):
    client = api.as_user(sam)
    url = f"/api/v1/incidents/{resolved_sev1.number}/close/"
    assert client.post(url, {}, format="json").json()["code"] == "postmortem_required"
    response = client.post(url, {"override_reason": "Duplicate of INC-2026-0001"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    timeline_events = client.get(f"/api/v1/incidents/{resolved_sev1.number}/timeline/").json()["results"]
    assert any("override (postmortem_required): Duplicate of INC-2026-0001" in e["summary"] for e in timeline_events)


def test_only_staff_may_override(api, resolved_sev1, alice):
    response = api.as_user(alice).post(f"/api/v1/incidents/{resolved_sev1.number}/close/",
                                       {"override_reason": "I say so"}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"].endswith("Only staff may close it anyway.")


def test_a_refusal_is_a_validation_error_for_callers_that_know_no_better(resolved_sev1, alice):
    # Chat commands and other callers show a ValidationError's message; a ClosingRefused is one.
    with pytest.raises(ValidationError) as refused:
        transition_incident(incident=resolved_sev1, transition="close", by=alice)
    assert refused.value.code == "postmortem_required"
