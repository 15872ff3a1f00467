"""The issue trackers action items are sent to: one small client per kind (GitHub, GitLab, Jira).

Each client does two things, both through the tracker's own REST API and webhook shapes:

- ``create_issue``: POST a new issue, answer its key (GitHub/GitLab number, Jira key) and address, or raise
  ``TrackerError`` with a sentence for the person who pressed "Send" (a refusal, a timeout, an answer that is
  not the tracker's). Redirects are not followed: a moved API says so rather than Vigil posting elsewhere.
- ``verify`` and ``event``: read a webhook call. ``verify`` raises ``Unverified`` unless the call carries the
  tracker's secret (GitHub and Jira sign the raw body with HMAC-SHA256, GitLab sends the secret itself),
  compared in constant time; ``event`` says which issue closed or reopened, or raises ``Ignored`` with why
  the call changes nothing (another event, another project).

No database writes here: ``services.trackers`` stores what these answer.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from .models import IssueTracker, TrackerKind

USER_AGENT = "Vigil-Postmortems/1"
# Seconds to wait for the tracker: a person is waiting on the page meanwhile.
TIMEOUT_SECONDS = 10.0
CLOSED, REOPENED = "closed", "reopened"


class TrackerError(Exception):
    """The tracker did not create the issue; the message says why and what to check."""


class Unverified(Exception):
    """A webhook call without the tracker's secret; the message says which header is missing or wrong."""


class Ignored(Exception):
    """A genuine webhook call that changes nothing in Vigil; the message says why."""


@dataclass(frozen=True)
class Issue:
    key: str
    url: str


@dataclass(frozen=True)
class Event:
    key: str
    change: str  # CLOSED or REOPENED


def _signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def _error_text(data) -> str:
    """The reason a tracker's error body gives: GitHub's and GitLab's ``message``/``error``, Jira's
    ``errorMessages`` and ``errors``."""
    if not isinstance(data, dict):
        return ""
    parts = []
    for name in ("message", "error", "error_description"):
        value = data.get(name)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, dict):  # GitLab: {"message": {"title": ["can't be blank"]}}
            parts += [f"{field} {', '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                      for field, msgs in value.items()]
    if isinstance(data.get("errorMessages"), list):
        parts += [str(m) for m in data["errorMessages"]]
    if isinstance(data.get("errors"), dict):
        parts += [f"{field}: {msg}" for field, msg in data["errors"].items()]
    elif isinstance(data.get("errors"), list):  # GitHub: [{"resource": "Issue", "field": "title", "code": ...}]
        parts += [str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e)
                  for e in data["errors"]]
    return "; ".join(p.strip() for p in parts if str(p).strip())[:300]


HINTS = {
    401: "check the token (it may be wrong, expired or revoked)",
    403: "the token may not create issues in this project (check its scopes and the account's access)",
    404: "check the base URL and the project",
    410: "issues are turned off in this project",
}


class Client:
    """One tracker's API. Subclasses say how to authenticate, what to post and how to read the answers."""

    name = ""

    def __init__(self, tracker: IssueTracker):
        self.tracker = tracker
        self.base_url = tracker.base_url.rstrip("/")

    # --- Creating an issue ------------------------------------------------------------

    def create_issue(self, *, title: str, body: str) -> Issue:
        raise NotImplementedError

    def display_key(self, key: str) -> str:
        return f"#{key}"

    def _post(self, path: str, *, payload: dict, headers: dict, auth=None) -> dict:
        """POST ``payload`` as JSON; the answer's JSON object, or TrackerError."""
        what = f"{self.name} ({self.tracker.name})"
        try:
            with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False,
                              headers={"User-Agent": USER_AGENT}) as client:
                response = client.post(self.base_url + path, json=payload, headers=headers, auth=auth)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            raise TrackerError(f"{what}: the base URL {self.base_url!r} is not a valid http(s) address.") from None
        except httpx.TimeoutException:
            raise TrackerError(f"{what} did not answer within {TIMEOUT_SECONDS:g} s; nothing was saved in Vigil. "
                               f"Check {self.name} for a new issue before sending again.") from None
        except httpx.HTTPError as exc:
            raise TrackerError(f"Could not reach {what} at {self.base_url}: {exc}. Nothing was sent.") from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if not response.is_success:
            message = f"{what} refused the issue: {response.status_code} {response.reason_phrase}".rstrip()
            reason = _error_text(data)
            if reason:
                message += f" ({reason})"
            if response.is_redirect:
                message += "; the API moved: give the base URL it redirects to"
            elif hint := HINTS.get(response.status_code):
                message += f"; {hint}"
            elif response.status_code == 429 or response.status_code >= 500:
                message += "; try again in a minute"
            raise TrackerError(message + ".")
        if not isinstance(data, dict):
            raise TrackerError(f"{what} answered {response.status_code} with something that is not {self.name}'s "
                               "JSON; check the base URL (it should be the API's root), and check "
                               f"{self.name} for a new issue before sending again.")
        return data

    def _issue(self, data: dict, key_field: str, url: str | None) -> Issue:
        key = data.get(key_field)
        if isinstance(key, bool) or not isinstance(key, (int, str)) or not str(key).strip():
            raise TrackerError(f"{self.name} answered without the new issue's {key_field}; check {self.name} for "
                               "it before sending again.")
        key = str(key).strip()[:100]
        if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 500:
            url = self.fallback_url(key)
        return Issue(key=key, url=url)

    def fallback_url(self, key: str) -> str:
        return self.base_url

    # --- Webhooks -------------------------------------------------------------------------

    def verify(self, headers, body: bytes) -> None:
        raise NotImplementedError

    def event(self, headers, payload: dict) -> Event:
        raise NotImplementedError

    def _verify_hmac(self, headers, body: bytes, header: str) -> None:
        given = headers.get(header)
        if not given:
            raise Unverified(f"The {header} header is missing: set the webhook's secret in {self.name} to the one "
                             "Vigil shows for this tracker.")
        if not _same(_signature(self.tracker.webhook_secret, body), given):
            raise Unverified(f"The {header} signature does not match: the webhook's secret in {self.name} is not "
                             "the one Vigil shows for this tracker.")


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


class GitHub(Client):
    """REST API v3 (https://docs.github.com/rest/issues/issues#create-an-issue); ``project`` is owner/repo.
    Webhook: the "Issues" event, signed in ``X-Hub-Signature-256``."""

    name = "GitHub"

    def create_issue(self, *, title: str, body: str) -> Issue:
        owner, _, repo = self.tracker.project.partition("/")
        data = self._post(f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}/issues",
                          payload={"title": title, "body": body, "labels": ["vigil"]},
                          headers={"Authorization": f"Bearer {self.tracker.token}",
                                   "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})
        return self._issue(data, "number", data.get("html_url"))

    def verify(self, headers, body: bytes) -> None:
        self._verify_hmac(headers, body, "X-Hub-Signature-256")

    def event(self, headers, payload: dict) -> Event:
        kind = headers.get("X-GitHub-Event", "")
        if kind != "issues":
            raise Ignored(f"GitHub event {kind or '(none)'!r} is not an issue event; Vigil reads only \"Issues\".")
        repository = _dict(payload.get("repository")).get("full_name")
        if isinstance(repository, str) and repository.lower() != self.tracker.project.lower():
            raise Ignored(f"The issue is in {repository}, not in {self.tracker.project}.")
        number = _dict(payload.get("issue")).get("number")
        action = payload.get("action")
        changes = {"closed": CLOSED, "reopened": REOPENED}
        if action not in changes or not isinstance(number, int) or isinstance(number, bool):
            raise Ignored(f"Issue action {action!r} changes nothing in Vigil (only closed and reopened do).")
        return Event(key=str(number), change=changes[action])


class GitLab(Client):
    """REST API v4 (https://docs.gitlab.com/api/issues/#new-issue); ``project`` is the id or group/path.
    Webhook: "Issues events" (and the newer work item events), with the secret in ``X-Gitlab-Token``."""

    name = "GitLab"

    def create_issue(self, *, title: str, body: str) -> Issue:
        data = self._post(f"/api/v4/projects/{quote(self.tracker.project, safe='')}/issues",
                          payload={"title": title, "description": body, "labels": "vigil"},
                          headers={"PRIVATE-TOKEN": self.tracker.token})
        return self._issue(data, "iid", data.get("web_url"))

    def verify(self, headers, body: bytes) -> None:
        given = headers.get("X-Gitlab-Token")
        if not given:
            raise Unverified("The X-Gitlab-Token header is missing: set the webhook's secret token in GitLab to the "
                             "one Vigil shows for this tracker.")
        if not _same(self.tracker.webhook_secret, given):
            raise Unverified("The X-Gitlab-Token does not match the secret Vigil shows for this tracker.")

    def event(self, headers, payload: dict) -> Event:
        kind = payload.get("object_kind")
        if kind not in ("issue", "work_item"):
            raise Ignored(f"GitLab event {kind!r} is not an issue event; Vigil reads only issue events.")
        project = _dict(payload.get("project"))
        wanted = self.tracker.project.strip().lower()
        if wanted.isdigit():
            if project.get("id") is not None and str(project.get("id")) != wanted:
                raise Ignored(f"The issue is in project {project.get('id')}, not in {self.tracker.project}.")
        elif isinstance(project.get("path_with_namespace"), str) and project["path_with_namespace"].lower() != wanted:
            raise Ignored(f"The issue is in {project['path_with_namespace']}, not in {self.tracker.project}.")
        attributes = _dict(payload.get("object_attributes"))
        iid, action, state = attributes.get("iid"), attributes.get("action"), attributes.get("state")
        if not isinstance(iid, int) or isinstance(iid, bool):
            raise Ignored("The issue event carries no object_attributes.iid.")
        if action == "close" or state == "closed":
            return Event(key=str(iid), change=CLOSED)
        if action == "reopen":
            return Event(key=str(iid), change=REOPENED)
        raise Ignored(f"Issue action {action!r} changes nothing in Vigil (only close and reopen do).")


class Jira(Client):
    """REST API v2 (https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-post):
    v2 takes a plain-text description and is served by Jira Cloud and Data Center alike. ``project`` is the key.
    Basic auth with ``username`` (Jira Cloud: the account's e-mail) and the API token, else the token as a
    bearer (a Data Center personal access token). Webhook: ``jira:issue_updated``, signed in ``X-Hub-Signature``
    (a Jira Cloud admin webhook with a secret); done is the status category ``done``."""

    name = "Jira"

    def create_issue(self, *, title: str, body: str) -> Issue:
        tracker = self.tracker
        headers = {"Accept": "application/json"}
        auth = None
        if tracker.username:
            auth = httpx.BasicAuth(tracker.username, tracker.token)
        else:
            headers["Authorization"] = f"Bearer {tracker.token}"
        data = self._post("/rest/api/2/issue", payload={"fields": {
            "project": {"key": tracker.project}, "summary": title, "issuetype": {"name": "Task"},
            "description": body,
        }}, headers=headers, auth=auth)
        key = data.get("key")
        return self._issue(data, "key", f"{self.base_url}/browse/{key}" if isinstance(key, str) else None)

    def display_key(self, key: str) -> str:
        return key

    def fallback_url(self, key: str) -> str:
        return f"{self.base_url}/browse/{key}"

    def verify(self, headers, body: bytes) -> None:
        self._verify_hmac(headers, body, "X-Hub-Signature")

    def event(self, headers, payload: dict) -> Event:
        kind = payload.get("webhookEvent")
        if kind != "jira:issue_updated":
            raise Ignored(f"Jira event {kind!r} changes nothing in Vigil (only jira:issue_updated does).")
        issue = _dict(payload.get("issue"))
        key = issue.get("key")
        if not isinstance(key, str) or not key:
            raise Ignored("The event carries no issue key.")
        if not key.upper().startswith(self.tracker.project.upper() + "-"):
            raise Ignored(f"Issue {key} is not in project {self.tracker.project}.")
        category = _dict(_dict(_dict(issue.get("fields")).get("status")).get("statusCategory")).get("key")
        if category == "done":
            return Event(key=key, change=CLOSED)
        items = _dict(payload.get("changelog")).get("items")
        moved = isinstance(items, list) and any(_dict(i).get("field") == "status" for i in items)
        if moved and isinstance(category, str):
            return Event(key=key, change=REOPENED)
        raise Ignored("The issue's status did not change to or from done.")


CLIENTS: dict[str, type[Client]] = {TrackerKind.GITHUB: GitHub, TrackerKind.GITLAB: GitLab, TrackerKind.JIRA: Jira}


def client_for(tracker: IssueTracker) -> Client:
    return CLIENTS[tracker.kind](tracker)


def read_json(body: bytes) -> dict:
    """A webhook's JSON object, or ValueError."""
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data
