"""Stakeholder updates leave the incident: to its subscribers and the team's Slack channel, and the
reminder when a promised next update is late.

Every update (public or internal) is e-mailed to the people subscribed to the incident's team or
services (``paging`` subscriptions, at the incident's severity or worse) and posted to the team's
Slack channel, when it has one; public ones also reach the status page and its e-mail subscribers
(``comms.subscribers``). All of it goes out as paging ``Notification`` rows, queued on commit.

An update may promise the next one (``StatusUpdate.next_update_at``). When that time passes with no
newer update and the incident still open, ``send_update_reminders`` (beat, every minute) tells the
communications lead — or the commander when there is none, or the team's leads when there is neither —
once, and says so in the team's channel.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from incidents.models import Incident, RoleAssignment, StatusUpdate
from incidents.models.incident import OPEN_STATUSES
from oncall.models import Membership
from paging.models import Notification
from paging.services import messages
from paging.services.notify import email_person, message_address
from paging.services.subscriptions import tell_subscribers


def update_text(update: StatusUpdate) -> str:
    incident = update.incident
    audience = "public, on the status page" if update.public else "internal"
    lines = [f"{incident.number} ({incident.severity.name}) {incident.title}",
             f"Update — {update.get_state_display()} ({audience}):", "", update.body, ""]
    if update.next_update_at:
        lines.append(f"Next update by {_at(update.next_update_at, incident)}.")
    lines.append(f"Open: {messages.incident_url(incident)}")
    return "\n".join(lines)


def _at(instant: datetime, incident: Incident) -> str:
    """An instant in the incident team's zone, labelled (these texts have no single reader)."""
    local = instant.astimezone(ZoneInfo(incident.team.timezone))
    return f"{local:%d %b %Y, %H:%M} {local.tzname()}"


def tell_team(*, update: StatusUpdate, now: datetime) -> list[Notification]:
    """The update to the incident's subscribers and the team's Slack channel."""
    incident = update.incident
    what = f"Update ({update.get_state_display()})"
    sent = tell_subscribers(incident=incident, what=what, now=now, body=update_text(update))
    channel = incident.team.slack_channel
    if channel:
        sent.append(message_address(channel="slack", address=channel, kind=Notification.Kind.STAKEHOLDER,
                                    subject=f"{what}: {messages.page_subject(incident)}", body=update_text(update),
                                    incident=incident, now=now))
    return sent


def overdue_promises(now: datetime):
    """Updates whose promised next update is due, not reminded of, with no newer update, on open incidents."""
    newer = StatusUpdate.objects.filter(incident=OuterRef("incident"), created_at__gt=OuterRef("created_at"))
    return (StatusUpdate.objects
            .filter(next_update_at__lte=now, reminded_at__isnull=True, incident__status__in=OPEN_STATUSES)
            .filter(~Exists(newer))
            .select_related("incident__team", "incident__severity"))


def reminder_recipients(incidents) -> dict[int, list]:
    """Incident id → who is reminded: its communications lead, else its commander, else its team's leads."""
    roles = {}
    for assignment in (RoleAssignment.objects
                       .filter(incident__in=incidents, role__in=[RoleAssignment.Role.COMMS_LEAD,
                                                                 RoleAssignment.Role.COMMANDER],
                               user__is_active=True)
                       .select_related("user")):
        roles.setdefault(assignment.incident_id, {})[assignment.role] = assignment.user
    leads = {}
    for membership in (Membership.objects
                       .filter(team__in={i.team_id for i in incidents}, role=Membership.Role.LEAD,
                               user__is_active=True)
                       .select_related("user")):
        leads.setdefault(membership.team_id, []).append(membership.user)
    chosen = {}
    for incident in incidents:
        held = roles.get(incident.pk, {})
        person = held.get(RoleAssignment.Role.COMMS_LEAD) or held.get(RoleAssignment.Role.COMMANDER)
        chosen[incident.pk] = [person] if person else leads.get(incident.team_id, [])
    return chosen


def send_update_reminders(*, now: datetime | None = None) -> int:
    """Remind whoever owes each overdue update, once; returns how many updates were reminded of.

    Each promise is claimed by setting ``reminded_at`` in a conditional UPDATE, so two beat runs
    at once (or a retried task) remind once.
    """
    now = now or timezone.now()
    reminded = 0
    due = list(overdue_promises(now)[:500])
    people = reminder_recipients([u.incident for u in due])
    for update in due:
        incident = update.incident
        with transaction.atomic():
            claimed = StatusUpdate.objects.filter(pk=update.pk, reminded_at__isnull=True).update(reminded_at=now)
            if not claimed:
                continue
            late = messages.minutes(now - update.next_update_at)
            subject = f"Update overdue: {messages.page_subject(incident)}"
            body = "\n".join([
                f"The next update on {incident.number} ({incident.severity.name}) {incident.title} was promised "
                f"for {_at(update.next_update_at, incident)} ({late} ago).",
                "Post one now, even if nothing changed: stakeholders are waiting for it.",
                f"Post it: {messages.incident_url(incident)}#updates",
            ])
            for person in people.get(incident.pk, []):
                email_person(user=person, kind=Notification.Kind.UPDATE_DUE, subject=subject, body=body,
                             incident=incident, now=now)
            if incident.team.slack_channel:
                # Names, not <@U…> mentions: the Slack channel escapes < and > in every text it posts.
                names = ", ".join(p.display_name for p in people.get(incident.pk, []))
                message_address(channel="slack", address=incident.team.slack_channel,
                                kind=Notification.Kind.UPDATE_DUE, subject=subject,
                                body=(f"{names}: " if names else "") + body, incident=incident, now=now)
            reminded += 1
    return reminded
