"""The morning digest: postmortems coming due or overdue, and overdue action items.

Each goes to its owner and to the leads of its incident's team (``Membership.Role.LEAD``), one e-mail per
person per day, sent while it is 08:00–08:59 in the person's own zone (``User.timezone``): the beat task
(``postmortems.tasks.send_reminders``) runs every 15 minutes, so it meets each zone's morning hour about
four times. The first run to insert the person's ``ReminderDigest(user, day)`` sends it: the unique
constraint is the claim, so a second run that morning, or two beats at once, insert nothing and send
nothing. The claim and the e-mail (a ``paging`` notification, delivered after the commit) are one
transaction: a failure leaves the person unclaimed for the next run.

Reading is a constant number of queries however many people and rows; each digest sent adds a constant
few (its claim and its notification).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateformat import format as date_format

from core.links import site_url
from incidents.views.common import humanize
from oncall.models import Membership, User
from oncall.permissions import team_leads
from paging.models import Notification
from paging.services.notify import email_person

from ..invitations import postmortem_url
from ..models import ActionItem, Postmortem, ReminderDigest

MORNING_HOUR = 8
SOON = timedelta(hours=24)


@dataclass
class Digest:
    user: User
    day: object  # the person's local date
    postmortems: dict[int, Postmortem] = field(default_factory=dict)
    items: dict[int, ActionItem] = field(default_factory=dict)
    lead_of: set[str] = field(default_factory=set)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return None


def morning_zones(now: datetime) -> list[str]:
    """The time zones of active people in which it is now between 08:00 and 08:59 (one query)."""
    names = User.objects.filter(is_active=True).order_by().values_list("timezone", flat=True).distinct()
    return [name for name in names if (zone := _zone(name)) and now.astimezone(zone).hour == MORNING_HOUR]


def due_digests(now: datetime) -> list[Digest]:
    """What each person whose morning it is should be told, leaving out those already told today.

    Postmortems not published and due by ``now`` + 24 h (overdue ones included); action items open or in
    progress and past due. Five queries, whatever the numbers.
    """
    zones = morning_zones(now)
    if not zones:
        return []
    leads: dict[int, list[Membership]] = {}
    for membership in team_leads().filter(user__is_active=True, user__timezone__in=zones).select_related(
            "user", "team"):
        leads.setdefault(membership.team_id, []).append(membership)
    involved = Q(owner__is_active=True, owner__timezone__in=zones) | Q(incident__team_id__in=list(leads))
    postmortems = (Postmortem.objects.unpublished().filter(involved, due_at__lte=now + SOON)
                   .select_related("incident__team", "incident__severity", "owner").order_by("due_at", "id"))
    items = (ActionItem.objects.overdue(now).filter(involved)
             .select_related("incident__team", "incident__severity", "owner").order_by("due_at", "priority", "id"))
    digests: dict[int, Digest] = {}

    def recipients(row):
        owner = row.owner
        if owner is not None and owner.is_active and owner.timezone in zones:
            yield owner, None
        for membership in leads.get(row.incident.team_id, []):
            yield membership.user, membership.team.name

    def digest_of(user: User) -> Digest:
        if user.pk not in digests:
            digests[user.pk] = Digest(user=user, day=now.astimezone(_zone(user.timezone)).date())
        return digests[user.pk]

    for postmortem in postmortems:
        for user, team in recipients(postmortem):
            digest = digest_of(user)
            digest.postmortems[postmortem.pk] = postmortem
            if team:
                digest.lead_of.add(team)
    for item in items:
        for user, team in recipients(item):
            digest = digest_of(user)
            digest.items[item.pk] = item
            if team:
                digest.lead_of.add(team)
    sent = set(ReminderDigest.objects.filter(user_id__in=list(digests), day__in={d.day for d in digests.values()})
               .values_list("user_id", "day"))
    return [d for d in digests.values() if (d.user.pk, d.day) not in sent and d.user.email]


def _when(at: datetime, zone: ZoneInfo) -> str:
    return date_format(at.astimezone(zone), "D j M H:i")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render(digest: Digest, now: datetime) -> tuple[str, str]:
    """Subject and text of one person's digest, with times in their zone."""
    zone = _zone(digest.user.timezone)
    overdue = [p for p in digest.postmortems.values() if p.due_at < now]
    soon = [p for p in digest.postmortems.values() if p.due_at >= now]
    parts = [_count(len(overdue), "overdue postmortem") if overdue else "",
             _count(len(soon), "postmortem") + " due within a day" if soon else "",
             _count(len(digest.items), "overdue action item") if digest.items else ""]
    subject = "Postmortem reminders: " + ", ".join(p for p in parts if p)
    lines = [f"Good morning, {digest.user.display_name}. Times are in {zone.key}.", ""]
    if digest.postmortems:
        lines.append("Postmortems")
        for p in [*overdue, *soon]:
            incident = p.incident
            state = (f"overdue by {humanize(now - p.due_at)} (due {_when(p.due_at, zone)})" if p.due_at < now
                     else f"due {_when(p.due_at, zone)}, in {humanize(p.due_at - now)}")
            owner = p.owner.display_name if p.owner else "nobody yet"
            lines += [f"- {incident.number} ({incident.severity.name}) {incident.title}: {state}; "
                      f"{p.get_status_display().lower()}, owner {owner}", f"  {postmortem_url(p)}"]
        lines.append("")
    if digest.items:
        lines.append("Overdue action items")
        for item in digest.items.values():
            owner = item.owner.display_name if item.owner else "nobody yet"
            lines += [f"- [{item.priority}] {item.title} ({item.incident.number}): due {_when(item.due_at, zone)}, "
                      f"owner {owner}", f"  {site_url()}/postmortems/action-items/{item.pk}/"]
        lines.append("")
    why = "You get this as their owner"
    if digest.lead_of:
        why += f" or as a lead of {', '.join(sorted(digest.lead_of))}"
    lines.append(why + ": once a day, at 08:00 your time.")
    return subject, "\n".join(lines)


def send_digest(digest: Digest, now: datetime) -> bool:
    """Claim the person's day and queue their digest, in one transaction; False when another run claimed it
    first (it read the same digest before this one's claim: the unique constraint decides)."""
    subject, body = render(digest, now)
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReminderDigest.objects.create(user=digest.user, day=digest.day, sent_at=now,
                                              postmortems=len(digest.postmortems), action_items=len(digest.items))
        except IntegrityError:
            return False
        email_person(user=digest.user, kind=Notification.Kind.PM_REMINDER, subject=subject, body=body, now=now)
    return True


def send_reminders(*, now: datetime | None = None) -> int:
    """Send the morning digests due now; returns how many were sent. Idempotent (the digest row claims)."""
    now = now or timezone.now()
    return sum(send_digest(digest, now) for digest in due_digests(now))
