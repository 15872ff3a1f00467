"""Who may see an incident may see its postmortem and action items; another team's are a 404 everywhere."""

import pytest
from django.core.exceptions import PermissionDenied

from paging.services.pages import page
from postmortems.services import create_action_item, transition_postmortem

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(resolved_sev1, alice, bob):
    return create_action_item(incident=resolved_sev1, by=alice, title="Alert on expiry", owner=bob)


def test_an_outsider_gets_404_for_the_pages(client, postmortem, item, charlie):
    client.force_login(charlie)
    for url in (f"/postmortems/{postmortem.pk}/", f"/postmortems/{postmortem.pk}/edit/",
                f"/postmortems/action-items/{item.pk}/", "/postmortems/action-items/team/payments/"):
        assert client.get(url).status_code == 404, url
    for url in (f"/postmortems/{postmortem.pk}/transition/submit/", f"/postmortems/{postmortem.pk}/action-items/",
                f"/postmortems/action-items/{item.pk}/status/", f"/incidents/{postmortem.incident.number}/postmortem/",
                f"/incidents/{postmortem.incident.number}/action-items/"):
        assert client.post(url, {"title": "x", "status": "done"}).status_code == 404, url
    assert "Checkout is failing" not in client.get("/postmortems/").content.decode()


def test_an_outsider_gets_404_from_the_api_and_sees_nothing_in_lists(api, postmortem, item, charlie):
    client = api.as_user(charlie)
    assert client.get(f"/api/v1/postmortems/{postmortem.pk}/").status_code == 404
    assert client.post(f"/api/v1/postmortems/{postmortem.pk}/submit/", {}, format="json").status_code == 404
    assert client.patch(f"/api/v1/postmortems/{postmortem.pk}/", {"version": 1}, format="json").status_code == 404
    assert client.get(f"/api/v1/action-items/{item.pk}/").status_code == 404
    assert client.get("/api/v1/postmortems/").json()["count"] == 0
    assert client.get("/api/v1/action-items/").json()["count"] == 0
    response = client.post("/api/v1/action-items/", {"postmortem": postmortem.pk, "title": "x"}, format="json")
    assert response.status_code == 400 and "Unknown postmortem" in response.json()["postmortem"][0]


def test_a_responder_from_another_team_may_see_and_work_it(api, resolved_sev1, postmortem, alice, charlie):
    page(incident=resolved_sev1, targets=[{"type": "user", "id": "charlie"}], by=alice, message="Help")
    client = api.as_user(charlie)
    assert client.get(f"/api/v1/postmortems/{postmortem.pk}/").status_code == 200
    response = client.post("/api/v1/action-items/", {"postmortem": postmortem.pk, "title": "Index the ledger"},
                           format="json")
    assert response.status_code == 201 and response.json()["incident"] == resolved_sev1.number


def test_the_services_refuse_someone_who_may_not_work_the_incident(postmortem, charlie):
    with pytest.raises(PermissionDenied):
        transition_postmortem(postmortem=postmortem, transition="submit", by=charlie)
    with pytest.raises(PermissionDenied):
        create_action_item(incident=postmortem.incident, by=charlie, title="x")


def test_the_factor_vocabulary_of_a_team_is_its_members(client, payments, alice, charlie):
    client.force_login(alice)
    response = client.post("/postmortems/factors/", {"team": payments.pk, "name": "Acquirer"}, follow=True)
    assert "Tag &#x27;Acquirer&#x27; added for Payments." in response.content.decode()
    client.force_login(charlie)
    page_text = client.get("/postmortems/factors/").content.decode()
    assert "Acquirer" not in page_text  # not his team's
    assert client.post("/postmortems/factors/", {"team": payments.pk, "name": "Mine now"}).status_code == 400
