"""Sending an action item to GitHub, GitLab or Jira as an issue, and the tracker's webhook closing it in Vigil.

The trackers are local fake servers (``tests.fakes.FakeHTTPServer``): Vigil's real client code posts to them
over loopback, and each test reads the request the fake received. Webhook calls carry the trackers' real
payload shapes, signed as each tracker signs them.
"""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from incidents.queries import timeline
from postmortems import trackers
from postmortems.models import ActionItem, IssueTracker
from postmortems.services import create_action_item, set_action_item_status
from postmortems.services.trackers import create_tracker
from tests.factories import make_incident
from tests.fakes import Answer
from tests.paging import conftest as paging_fixtures

pytestmark = pytest.mark.django_db

DUE = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


# A local fake of each tracker's API: paging's fixture, which starts FakeHTTPServers and stops them after.
fake_api = paging_fixtures.http_server


@pytest.fixture
def item(resolved_sev1, alice, bob):
    return create_action_item(incident=resolved_sev1, by=alice, title="Alert on certificate expiry", owner=bob,
                              due_at=DUE, priority="P1",
                              success_criteria="An alert fires 14 days before any certificate expires.")


def tracker_of(team, by, kind, url, **kwargs):
    defaults = {"github": ("GitHub payments", "acme/payments"), "gitlab": ("GitLab payments", "platform/payments"),
                "jira": ("Jira OPS", "OPS")}[kind]
    kwargs.setdefault("name", defaults[0])
    kwargs.setdefault("project", defaults[1])
    kwargs.setdefault("token", f"{kind}-secret-token")
    return create_tracker(team=team, by=by, kind=kind, base_url=url, **kwargs)


@pytest.fixture
def github(fake_api, payments, alice):
    server = fake_api(Answer(201, {"id": 1, "number": 42, "state": "open", "title": "Alert on certificate expiry",
                                   "html_url": "https://github.com/acme/payments/issues/42"}))
    return tracker_of(payments, alice, "github", server.url), server


@pytest.fixture
def gitlab(fake_api, payments, alice):
    server = fake_api(Answer(201, {"id": 84, "iid": 7, "project_id": 3, "state": "opened",
                                   "web_url": "https://gitlab.example.com/platform/payments/-/issues/7"}))
    return tracker_of(payments, alice, "gitlab", server.url), server


@pytest.fixture
def jira(fake_api, payments, alice):
    server = fake_api(Answer(201, {"id": "10012", "key": "OPS-12", "self": "https://acme.atlassian.net/rest/api/2/issue/10012"}))
    return tracker_of(payments, alice, "jira", server.url, username="ops-bot@acme.example"), server


def send(api, user, item, tracker):
    return api.as_user(user).post(f"/api/v1/action-items/{item.pk}/send/", {"tracker": tracker.pk}, format="json")


# --- Creating the issue -----------------------------------------------------------------------------------

def test_github_gets_the_issue_with_the_token_and_the_item_keeps_its_number_and_link(api, item, bob, github):
    tracker, server = github
    response = send(api, bob, item, tracker)
    assert response.status_code == 200, response.json()
    assert response.json()["external_url"] == "https://github.com/acme/payments/issues/42"
    assert (response.json()["tracker"], response.json()["external_key"]) == (tracker.pk, "42")
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/repos/acme/payments/issues")
    assert request.headers["Authorization"] == "Bearer github-secret-token"
    assert request.headers["Accept"] == "application/vnd.github+json"
    body = request.json()
    assert body["title"] == "Alert on certificate expiry" and body["labels"] == ["vigil"]
    text = body["body"]
    assert "P1 — this week" in text and "2026-03-16 10:00 (Europe/Berlin)" in text and "Bob Baker (bob)" in text
    assert "An alert fires 14 days before any certificate expires." in text
    assert f"http://testserver/postmortems/action-items/{item.pk}/" in text
    item.refresh_from_db()
    assert (item.tracker, item.external_key, item.external_url) == (
        tracker, "42", "https://github.com/acme/payments/issues/42")
    assert item.synced_at is not None


def test_gitlab_gets_the_issue_from_the_item_page_which_then_links_to_it(client, item, bob, gitlab):
    tracker, server = gitlab
    client.force_login(bob)
    page = client.get(f"/postmortems/action-items/{item.pk}/").content.decode()
    assert "Send to GitLab payments" in page
    response = client.post(f"/postmortems/action-items/{item.pk}/send/", {"tracker": tracker.pk}, follow=True)
    [request] = server.requests
    assert request.path == "/api/v4/projects/platform%2Fpayments/issues"
    assert request.headers["PRIVATE-TOKEN"] == "gitlab-secret-token"
    assert request.json()["title"] == "Alert on certificate expiry"
    assert f"/postmortems/action-items/{item.pk}/" in request.json()["description"]
    page = response.content.decode()
    assert 'href="https://gitlab.example.com/platform/payments/-/issues/7"' in page and "Send to" not in page
    item.refresh_from_db()
    assert (item.external_key, item.external_url) == ("7", "https://gitlab.example.com/platform/payments/-/issues/7")


def test_jira_gets_a_task_with_basic_auth_and_the_link_is_its_browse_page(api, item, bob, jira):
    tracker, server = jira
    response = send(api, bob, item, tracker)
    assert response.status_code == 200
    [request] = server.requests
    assert request.path == "/rest/api/2/issue"
    expected = base64.b64encode(b"ops-bot@acme.example:jira-secret-token").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    fields = request.json()["fields"]
    assert fields["project"] == {"key": "OPS"} and fields["issuetype"] == {"name": "Task"}
    assert fields["summary"] == "Alert on certificate expiry" and "Success criteria" in fields["description"]
    item.refresh_from_db()
    assert (item.external_key, item.external_url) == ("OPS-12", f"{server.url}/browse/OPS-12")


def test_jira_without_a_username_gets_the_token_as_a_bearer(api, fake_api, item, payments, alice, bob):
    server = fake_api(Answer(201, {"id": "1", "key": "OPS-1"}))
    tracker = tracker_of(payments, alice, "jira", server.url + "/")
    assert send(api, bob, item, tracker).status_code == 200
    assert server.requests[0].headers["Authorization"] == "Bearer jira-secret-token"


def test_a_trackers_refusal_is_shown_and_nothing_is_stored(api, client, item, bob, github):
    tracker, server = github
    server.answer(Answer(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}))
    response = send(api, bob, item, tracker)
    assert response.status_code == 502
    assert response.json()["code"] == "tracker_error"
    assert "401 Unauthorized (Bad credentials); check the token" in response.json()["detail"]
    server.answer(Answer(422, {"message": "Validation Failed", "errors": [{"resource": "Issue", "code": "custom",
                                                                          "message": "title is too long"}]}))
    client.force_login(bob)
    page = client.post(f"/postmortems/action-items/{item.pk}/send/", {"tracker": tracker.pk}, follow=True)
    assert "Not sent: GitHub (GitHub payments) refused the issue: 422" in page.content.decode()
    assert "title is too long" in page.content.decode()
    item.refresh_from_db()
    assert (item.tracker, item.external_key, item.external_url) == (None, "", "")


@pytest.mark.parametrize(("answer", "message"), [
    (Answer(503, "upstream connect error"), "503 Service Unavailable; try again in a minute"),
    (Answer(200, "<html>Sign in</html>"), "with something that is not GitHub's JSON"),
    (Answer(201, {"html_url": "https://github.com/acme/payments/issues/1"}), "without the new issue's number"),
])
def test_errors_and_answers_that_are_not_an_issue_leave_the_item_as_it_was(api, item, bob, github, answer, message):
    tracker, server = github
    server.answer(answer)
    response = send(api, bob, item, tracker)
    assert response.status_code == 502 and message in response.json()["detail"]
    assert ActionItem.objects.get(pk=item.pk).external_url == ""


def test_a_tracker_that_does_not_answer_in_time(api, item, bob, github, monkeypatch):
    tracker, server = github
    monkeypatch.setattr(trackers, "TIMEOUT_SECONDS", 0.2)
    server.answer(Answer(201, {"number": 1}, delay=1.0))
    response = send(api, bob, item, tracker)
    assert response.status_code == 502 and "did not answer within 0.2 s" in response.json()["detail"]
    assert ActionItem.objects.get(pk=item.pk).external_url == ""


def test_a_tracker_nobody_listens_at(api, item, bob, payments, alice):
    tracker = tracker_of(payments, alice, "github", "http://127.0.0.1:9")
    response = send(api, bob, item, tracker)
    assert response.status_code == 502 and "Could not reach GitHub (GitHub payments)" in response.json()["detail"]


def test_sending_twice_is_refused_with_the_link(api, client, item, bob, github):
    tracker, server = github
    assert send(api, bob, item, tracker).status_code == 200
    again = send(api, bob, item, tracker)
    assert again.status_code == 409 and again.json()["code"] == "already_sent"
    assert again.json()["external_url"] == "https://github.com/acme/payments/issues/42"
    client.force_login(bob)
    page = client.post(f"/postmortems/action-items/{item.pk}/send/", {"tracker": tracker.pk}, follow=True)
    assert "was sent to GitHub payments already: https://github.com/acme/payments/issues/42" in page.content.decode()
    assert len(server.requests) == 1


def test_only_trackers_of_the_incidents_team_are_offered_and_accepted(api, client, fake_api, item, bob, github,
                                                                      search_team, charlie, sam):
    theirs = tracker_of(search_team, sam, "github", fake_api(Answer(201, {"number": 1})).url, name="Search repo",
                        project="acme/search")
    client.force_login(bob)
    page = client.get(f"/postmortems/action-items/{item.pk}/").content.decode()
    assert "Send to GitHub payments" in page and "Search repo" not in page
    response = send(api, bob, item, theirs)
    assert response.status_code == 400 and "Unknown tracker" in response.json()["tracker"][0]
    assert client.post(f"/postmortems/action-items/{item.pk}/send/", {"tracker": theirs.pk}).status_code == 302
    assert ActionItem.objects.get(pk=item.pk).external_url == ""


def test_an_outsider_cannot_send_anothers_item(api, item, charlie, github):
    tracker, server = github
    assert send(api, charlie, item, tracker).status_code == 404
    assert server.requests == []


# --- The webhook ---------------------------------------------------------------------------------------------

def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_hook(client, tracker, action, number=42, *, signature=None, event="issues"):
    payload = {
        "action": action,
        "issue": {"url": f"https://api.github.com/repos/acme/payments/issues/{number}", "number": number,
                  "html_url": f"https://github.com/acme/payments/issues/{number}", "title": "Alert on certificate expiry",
                  "state": "closed" if action == "closed" else "open", "state_reason": "completed",
                  "user": {"login": "octocat", "id": 1}, "labels": [{"name": "vigil"}]},
        "repository": {"id": 1296269, "name": "payments", "full_name": "acme/payments", "private": True},
        "sender": {"login": "octocat", "id": 1, "type": "User"},
    }
    body = json.dumps(payload).encode()
    headers = {"HTTP_X_GITHUB_EVENT": event, "HTTP_X_GITHUB_DELIVERY": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    if signature is not False:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature or _sign(tracker.webhook_secret, body)
    return client.post(f"/api/v1/trackers/{tracker.pk}/webhook/", body, content_type="application/json", **headers)


def gitlab_hook(client, tracker, action, state, iid=7, *, token=None):
    payload = {
        "object_kind": "issue", "event_type": "issue",
        "user": {"id": 1, "name": "Administrator", "username": "root"},
        "project": {"id": 3, "name": "payments", "path_with_namespace": "platform/payments",
                    "web_url": "https://gitlab.example.com/platform/payments"},
        "object_attributes": {"id": 84, "iid": iid, "title": "Alert on certificate expiry", "state": state,
                              "action": action, "project_id": 3,
                              "url": f"https://gitlab.example.com/platform/payments/-/issues/{iid}"},
        "labels": [{"id": 1, "title": "vigil"}],
        "changes": {"state_id": {"previous": 1, "current": 2}},
    }
    headers = {"HTTP_X_GITLAB_EVENT": "Issue Hook"}
    if token is not False:
        headers["HTTP_X_GITLAB_TOKEN"] = token or tracker.webhook_secret
    return client.post(f"/api/v1/trackers/{tracker.pk}/webhook/", json.dumps(payload), content_type="application/json",
                       **headers)


def jira_hook(client, tracker, category, status_name, key="OPS-12", *, signature=None):
    payload = {
        "timestamp": 1741860000000, "webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_generic",
        "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Olga Ops"},
        "issue": {"id": "10012", "key": key, "self": "https://acme.atlassian.net/rest/api/2/10012",
                  "fields": {"summary": "Alert on certificate expiry", "project": {"key": "OPS"},
                             "status": {"name": status_name, "id": "10001",
                                        "statusCategory": {"id": 3, "key": category, "name": status_name}}}},
        "changelog": {"id": "10100", "items": [{"field": "status", "fieldtype": "jira", "from": "3",
                                                "fromString": "In Progress", "to": "10001",
                                                "toString": status_name}]},
    }
    body = json.dumps(payload).encode()
    headers = {"HTTP_X_ATLASSIAN_WEBHOOK_IDENTIFIER": "2851"}
    if signature is not False:
        headers["HTTP_X_HUB_SIGNATURE"] = signature or _sign(tracker.webhook_secret, body)
    return client.post(f"/api/v1/trackers/{tracker.pk}/webhook/", body, content_type="application/json", **headers)


@pytest.fixture
def sent(api, item, bob):
    def to(tracker):
        assert send(api, bob, item, tracker).status_code == 200
        item.refresh_from_db()
        return item

    return to


def test_closing_the_github_issue_completes_the_item_on_the_incidents_timeline(client, sent, github, resolved_sev1):
    tracker, _ = github
    item = sent(tracker)
    response = github_hook(client, tracker, "closed")
    assert response.status_code == 200 and response.json()["code"] == "completed"
    item.refresh_from_db()
    assert item.status == "done" and item.closed_at is not None
    events = [e for e in timeline(resolved_sev1) if e.kind == "action_item"]
    assert [e.summary for e in events][-2:] == [
        "Action item sent to GitHub payments as #42: Alert on certificate expiry",
        "Action item done: Alert on certificate expiry — closed in GitHub payments #42"]
    assert events[-1].actor is None
    assert item.history.order_by("history_date").last().history_change_reason == "done: closed in GitHub payments #42"
    # GitHub delivers again (a redelivery): nothing more happens.
    again = github_hook(client, tracker, "closed")
    assert again.status_code == 200 and again.json()["code"] == "unchanged"
    assert item.history.count() == 3


def test_reopening_the_github_issue_reopens_the_item(client, sent, github):
    tracker, _ = github
    item = sent(tracker)
    github_hook(client, tracker, "closed")
    response = github_hook(client, tracker, "reopened")
    assert response.status_code == 200 and response.json()["code"] == "reopened"
    item.refresh_from_db()
    assert (item.status, item.closed_at) == ("open", None)


def test_closing_and_reopening_the_gitlab_issue(client, sent, gitlab):
    tracker, _ = gitlab
    item = sent(tracker)
    assert gitlab_hook(client, tracker, "close", "closed").json()["code"] == "completed"
    assert ActionItem.objects.get(pk=item.pk).status == "done"
    # GitLab sends an "update" beside the "close": still closed, nothing more to do.
    assert gitlab_hook(client, tracker, "update", "closed").json()["code"] == "unchanged"
    assert gitlab_hook(client, tracker, "reopen", "opened").json()["code"] == "reopened"
    assert ActionItem.objects.get(pk=item.pk).status == "open"


def test_a_jira_issue_reaching_a_done_status_completes_the_item_and_leaving_it_reopens(client, sent, jira):
    tracker, _ = jira
    item = sent(tracker)
    assert jira_hook(client, tracker, "done", "Done").json()["code"] == "completed"
    assert ActionItem.objects.get(pk=item.pk).status == "done"
    assert jira_hook(client, tracker, "indeterminate", "In Progress").json()["code"] == "reopened"
    assert ActionItem.objects.get(pk=item.pk).status == "open"


@pytest.mark.parametrize("kind", ["github", "gitlab", "jira"])
def test_a_webhook_without_the_trackers_secret_is_refused_and_changes_nothing(client, request, sent, kind):
    tracker, _ = request.getfixturevalue(kind)
    item = sent(tracker)
    wrong = _sign("not-the-secret", b"{}")
    calls = {
        "github": lambda sig: github_hook(client, tracker, "closed", signature=sig),
        "gitlab": lambda sig: gitlab_hook(client, tracker, "close", "closed", token=sig),
        "jira": lambda sig: jira_hook(client, tracker, "done", "Done", signature=sig),
    }[kind]
    for signature in (wrong, False):
        response = calls(signature)
        assert response.status_code == 401, response.content
        assert response.json()["code"] == "bad_signature"
    assert "missing" in response.json()["detail"]
    item.refresh_from_db()
    assert item.status == "open" and item.history.count() == 2


def test_a_body_changed_after_signing_is_refused(client, sent, github):
    tracker, _ = github
    item = sent(tracker)
    signed_for_another = _sign(tracker.webhook_secret, b'{"action": "opened"}')
    assert github_hook(client, tracker, "closed", signature=signed_for_another).status_code == 401
    assert ActionItem.objects.get(pk=item.pk).status == "open"


def test_unknown_issues_other_events_and_pings_are_acknowledged_and_ignored(client, sent, github, gitlab):
    tracker, _ = github
    item = sent(tracker)
    unknown = github_hook(client, tracker, "closed", number=999)
    assert unknown.status_code == 202 and unknown.json()["code"] == "ignored"
    assert github_hook(client, tracker, "labeled").status_code == 202
    assert github_hook(client, tracker, "closed", event="issue_comment").status_code == 202
    ping = github_hook(client, tracker, "ping", event="ping")
    assert ping.status_code == 200 and ping.json()["code"] == "pong"
    # An item in another tracker with the same number is not this one's.
    assert gitlab_hook(client, gitlab[0], "close", "closed", iid=42).status_code == 202
    assert ActionItem.objects.get(pk=item.pk).status == "open"


def test_a_done_item_stays_done_and_a_wont_do_item_is_left_alone(client, sent, github, bob):
    tracker, _ = github
    item = sent(tracker)
    set_action_item_status(item=item, status="wont_do", by=bob, reason="The vendor rotates them now.")
    assert github_hook(client, tracker, "closed").json()["code"] == "unchanged"
    assert ActionItem.objects.get(pk=item.pk).status == "wont_do"


def test_a_webhook_to_an_unknown_tracker_or_of_bad_json(client, github):
    tracker, _ = github
    assert client.post("/api/v1/trackers/999999/webhook/", "{}", content_type="application/json").status_code == 404
    body = b"not json"
    response = client.post(f"/api/v1/trackers/{tracker.pk}/webhook/", body, content_type="application/json",
                           HTTP_X_GITHUB_EVENT="issues", HTTP_X_HUB_SIGNATURE_256=_sign(tracker.webhook_secret, body))
    assert response.status_code == 400 and response.json()["code"] == "invalid"


# --- The team's trackers ------------------------------------------------------------------------------------

def test_a_team_lead_adds_a_tracker_and_sees_the_webhook_to_paste_but_never_the_token(client, payments, alice):
    client.force_login(alice)
    response = client.post("/postmortems/trackers/team/payments/", {
        "name": "Payments repo", "kind": "github", "base_url": "https://api.github.com/", "project": "acme/payments",
        "token": "ghp_supersecret", "active": "on"}, follow=True)
    tracker = IssueTracker.objects.get()
    assert (tracker.team, tracker.base_url, tracker.token) == (payments, "https://api.github.com", "ghp_supersecret")
    page = response.content.decode()
    assert f"http://testserver/api/v1/trackers/{tracker.pk}/webhook/" in page and tracker.webhook_secret in page
    assert "ghp_supersecret" not in page
    # Saving without a token keeps it.
    client.post(f"/postmortems/trackers/{tracker.pk}/", {
        "name": "Payments issues", "kind": "github", "base_url": "https://api.github.com", "project": "acme/payments",
        "token": "", "active": "on"})
    tracker.refresh_from_db()
    assert (tracker.name, tracker.token) == ("Payments issues", "ghp_supersecret")
    assert "ghp_supersecret" not in client.get(f"/postmortems/trackers/{tracker.pk}/").content.decode()
    client.post(f"/postmortems/trackers/{tracker.pk}/delete/")
    assert not IssueTracker.objects.exists()


def test_a_github_project_must_be_owner_slash_repo(client, payments, alice):
    client.force_login(alice)
    response = client.post("/postmortems/trackers/team/payments/", {
        "name": "Repo", "kind": "github", "base_url": "https://api.github.com", "project": "payments", "token": "t"})
    assert response.status_code == 400 and "owner/repository" in response.content.decode()
    assert not IssueTracker.objects.exists()


def test_members_see_the_teams_trackers_but_only_leads_change_them(client, github, bob):
    tracker, _ = github
    client.force_login(bob)
    assert "/postmortems/trackers/team/payments/" in client.get("/postmortems/action-items/team/payments/").content.decode()
    page = client.get("/postmortems/trackers/team/payments/").content.decode()
    assert "GitHub payments" in page and tracker.webhook_secret not in page and "Add a tracker" not in page
    assert client.get(f"/postmortems/trackers/{tracker.pk}/").status_code == 403
    assert client.post(f"/postmortems/trackers/{tracker.pk}/delete/").status_code == 403
    assert client.post("/postmortems/trackers/team/payments/", {"name": "x"}).status_code == 403
    assert IssueTracker.objects.filter(pk=tracker.pk).exists()


def test_another_teams_trackers_are_a_404(client, github, charlie):
    tracker, _ = github
    client.force_login(charlie)
    assert client.get("/postmortems/trackers/team/payments/").status_code == 404
    assert client.get(f"/postmortems/trackers/{tracker.pk}/").status_code == 404
    assert client.post(f"/postmortems/trackers/{tracker.pk}/", {"name": "Mine now"}).status_code == 404
    assert client.post(f"/postmortems/trackers/{tracker.pk}/delete/").status_code == 404
    tracker.refresh_from_db()
    assert tracker.name == "GitHub payments"


def test_the_admin_never_shows_the_token_and_keeps_it_when_left_empty(client, github, sam):
    tracker, _ = github
    client.force_login(sam)
    url = f"/admin/postmortems/issuetracker/{tracker.pk}/change/"
    page = client.get(url).content.decode()
    assert "github-secret-token" not in page and tracker.webhook_secret in page
    response = client.post(url, {"name": "GitHub payments", "kind": "github", "base_url": tracker.base_url,
                                 "project": "acme/payments", "username": "", "token": "", "active": "on"})
    assert response.status_code == 302
    tracker.refresh_from_db()
    assert tracker.token == "github-secret-token"


def test_removing_a_tracker_keeps_the_items_link(client, sent, github, alice):
    tracker, _ = github
    item = sent(tracker)
    client.force_login(alice)
    client.post(f"/postmortems/trackers/{tracker.pk}/delete/")
    item.refresh_from_db()
    assert (item.tracker, item.external_url) == (None, "https://github.com/acme/payments/issues/42")
    row = item.history.order_by("history_date", "history_id").last()
    assert (row.history_user, row.tracker_id) == (alice, None)
    assert row.history_change_reason.startswith("tracker GitHub payments removed")


def test_the_item_lists_read_the_trackers_fields_in_constant_queries(api, sent, github, bob, resolved_sev1, alice,
                                                                      django_assert_max_num_queries):
    sent(github[0])
    for n in range(5):
        create_action_item(incident=resolved_sev1, by=alice, title=f"Item {n}")
    client = api.as_user(bob)
    with django_assert_max_num_queries(12):
        rows = client.get("/api/v1/action-items/").json()["results"]
    assert [r["external_key"] for r in rows if r["external_url"]] == ["42"]


def test_an_incident_of_another_team_does_not_offer_this_teams_trackers(client, github, search_team, charlie):
    incident = make_incident(team=search_team, by=charlie)
    other = create_action_item(incident=incident, by=charlie, title="Reindex nightly")
    client.force_login(charlie)
    page = client.get(f"/postmortems/action-items/{other.pk}/").content.decode()
    assert "GitHub payments" not in page and "has no issue tracker yet" in page
