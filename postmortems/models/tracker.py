"""Issue trackers a team sends action items to (GitHub, GitLab, Jira), and what each item became there."""

import secrets

from django.core.exceptions import ValidationError
from django.db import models

from core.history import HistoricalRecords
from core.text import validate_one_line
from oncall.models import Team


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class TrackerKind(models.TextChoices):
    GITHUB = "github", "GitHub"
    GITLAB = "gitlab", "GitLab"
    JIRA = "jira", "Jira"


class IssueTracker(models.Model):
    """A team's connection to one tracker project, through its REST API.

    ``base_url`` is the API root (https://api.github.com, https://gitlab.example.com, https://acme.atlassian.net);
    ``project`` is ``owner/repo`` on GitHub, the project's id or ``group/path`` on GitLab, the project key on Jira.
    ``token`` is sent as the API's credential (with ``username``, Jira Cloud's e-mail, as basic auth).
    ``webhook_secret`` is what the tracker signs (GitHub, Jira) or sends (GitLab) with its webhook calls.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="issue_trackers")
    name = models.CharField(max_length=80, validators=[validate_one_line])
    kind = models.CharField(max_length=10, choices=TrackerKind.choices)
    base_url = models.URLField(max_length=300)
    project = models.CharField(max_length=200, validators=[validate_one_line])
    username = models.CharField(max_length=200, blank=True, validators=[validate_one_line],
                                help_text="Jira Cloud: the account's e-mail (basic auth with the token). "
                                          "Empty: the token is sent as a bearer token.")
    token = models.CharField(max_length=500, help_text="An API token allowed to create issues in the project.")
    webhook_secret = models.CharField(max_length=100, default=new_webhook_secret)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    history = HistoricalRecords(excluded_fields=["token", "webhook_secret"])

    class Meta:
        ordering = ["team", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="issue_tracker_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self):
        if self.kind == TrackerKind.GITHUB and self.project.count("/") != 1:
            raise ValidationError({"project": "A GitHub project is owner/repository, e.g. 'acme/payments'."})
