"""Draft → in review → published, and reopen: a reviewer other than the author approves before it is
published; every transition is on the incident's timeline (and its API timeline)."""

import pytest
from django.core.exceptions import ValidationError

from incidents.queries import timeline
from postmortems.services import (
    IllegalTransition,
    request_review,
    transition_postmortem,
    update_postmortem,
)

pytestmark = pytest.mark.django_db


def _fire(api, user, postmortem, name, **body):
    return api.as_user(user).post(f"/api/v1/postmortems/{postmortem.pk}/{name}/", body, format="json")


def test_the_author_cannot_approve_their_own_postmortem(api, postmortem, bob):
    assert postmortem.owner == bob
    assert _fire(api, bob, postmortem, "submit").status_code == 200
    response = _fire(api, bob, postmortem, "approve")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition" and body["status"] == "in_review"
    assert "approve" not in body["allowed"] and "someone other than its author" in body["detail"]


def test_publishing_needs_an_approval_by_someone_else(api, postmortem, alice, bob):
    _fire(api, bob, postmortem, "submit")
    refused = _fire(api, bob, postmortem, "publish")
    assert refused.status_code == 409 and "needs an approval by someone other than the author" in refused.json()["detail"]
    approved = _fire(api, alice, postmortem, "approve", note="Clear and blameless")
    assert approved.status_code == 200 and approved.json()["reviewers"][0] == {
        "user": "alice", "requested_at": approved.json()["reviewers"][0]["requested_at"],
        "approved_at": approved.json()["reviewers"][0]["approved_at"], "approved": True}
    published = _fire(api, bob, postmortem, "publish")
    assert published.status_code == 200 and published.json()["status"] == "published"


def test_an_approval_of_an_earlier_round_does_not_count_after_a_reopen(postmortem, alice, bob):
    transition_postmortem(postmortem=postmortem, transition="submit", by=bob)
    transition_postmortem(postmortem=postmortem, transition="approve", by=alice)
    transition_postmortem(postmortem=postmortem, transition="reopen", by=bob, note="One more lesson")
    transition_postmortem(postmortem=postmortem, transition="submit", by=bob)
    with pytest.raises(IllegalTransition, match="needs an approval"):
        transition_postmortem(postmortem=postmortem, transition="publish", by=bob)


def test_the_owner_who_changes_hands_cannot_count_their_own_approval(postmortem, alice, bob):
    transition_postmortem(postmortem=postmortem, transition="submit", by=bob)
    transition_postmortem(postmortem=postmortem, transition="approve", by=alice)
    fresh = update_postmortem(postmortem=postmortem, by=bob, version=postmortem.version, owner=alice)
    with pytest.raises(IllegalTransition):
        transition_postmortem(postmortem=fresh, transition="publish", by=bob)


def test_submitting_needs_an_owner(postmortem, alice):
    fresh = update_postmortem(postmortem=postmortem, by=alice, version=postmortem.version, owner=None)
    with pytest.raises(IllegalTransition, match="Name an owner"):
        transition_postmortem(postmortem=fresh, transition="submit", by=alice)


def test_reviewers_are_asked_but_never_the_owner(postmortem, alice, bob):
    assert [r.reviewer for r in request_review(postmortem=postmortem, reviewers=[alice], by=bob)] == [alice]
    assert request_review(postmortem=postmortem, reviewers=[alice], by=bob) == []  # asked already
    with pytest.raises(ValidationError, match="owns this postmortem"):
        request_review(postmortem=postmortem, reviewers=[bob], by=alice)


def test_every_transition_is_on_the_incidents_timeline(api, resolved_sev1, postmortem, alice, bob):
    transition_postmortem(postmortem=postmortem, transition="submit", by=bob)
    transition_postmortem(postmortem=postmortem, transition="approve", by=alice)
    transition_postmortem(postmortem=postmortem, transition="publish", by=bob)
    transition_postmortem(postmortem=postmortem, transition="reopen", by=alice, note="Add the vendor's report")
    events = [(e.summary, e.actor) for e in timeline(resolved_sev1) if e.kind == "postmortem"]
    assert events == [
        ("Postmortem started: SEV1 requires one", None),
        ("Postmortem submitted for review", bob), ("Postmortem approved", alice), ("Postmortem published", bob),
        ("Postmortem reopened: Add the vendor's report", alice),
    ]
    api_events = api.as_user(alice).get(f"/api/v1/incidents/{resolved_sev1.number}/timeline/").json()["results"]
    assert [e["summary"] for e in api_events if e["kind"] == "postmortem"][-1] == \
        "Postmortem reopened: Add the vendor's report"


def test_the_page_offers_only_the_transitions_the_reader_may_fire(client, postmortem, alice, bob):
    transition_postmortem(postmortem=postmortem, transition="submit", by=bob)
    client.force_login(bob)
    page = client.get(f"/postmortems/{postmortem.pk}/").content.decode()
    assert 'data-transition="approve"' not in page and "You own it: someone else approves it." in page
    client.force_login(alice)
    response = client.post(f"/postmortems/{postmortem.pk}/transition/approve/", {"note": ""}, follow=True)
    assert "Approved." in response.content.decode()
    client.force_login(bob)
    response = client.post(f"/postmortems/{postmortem.pk}/transition/publish/", {"note": ""}, follow=True)
    assert "Published." in response.content.decode()
