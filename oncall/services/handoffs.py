"""Hand-off checklists and shift reminders: the e-mails Celery beat triggers.

Both are idempotent by a row: ``HandoffNotice`` is unique per (rotation,
hand-off instant) and ``ShiftReminder`` per (rotation, person, shift start).
The row is claimed, and each person's e-mail handed to ``hooks.send_to_person``,
in one transaction: two beat runs, or two workers, never send the same e-mail
twice. With paging installed the e-mail is a notification written in that
transaction and delivered after it commits, retried until it goes, so a
crash loses nothing; without it, ``send_mail`` runs after the commit and a
crash between the two loses that one e-mail rather than sending it twice.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone as djtz

from core.links import site_url

from ..hooks import CHECKLIST, handoff_context, send_to_person
from ..models import HandoffNote, HandoffNotice, Rotation, ShiftReminder, User
from ..schedule import final_shifts, load_rotations, moved

# A hand-off older than this when beat first sees it (beat was down) gets no email:
# a checklist an hour late is noise.
HANDOFF_LOOKBACK = timedelta(minutes=15)


def reminder_lead() -> timedelta:
    """How long before a shift its person is reminded (setting ``ONCALL_SHIFT_REMINDER_HOURS``, default 24)."""
    return timedelta(hours=settings.ONCALL_SHIFT_REMINDER_HOURS)


@dataclass(frozen=True)
class Handoff:
    rotation: Rotation
    at: datetime
    outgoing: User | None
    incoming: User | None


def handoffs_between(rotation: Rotation, start: datetime, end: datetime) -> list[Handoff]:
    """Moments in (start, end] where the person on call in ``rotation`` changes."""
    shifts = final_shifts(rotation, start - timedelta(minutes=1), end + timedelta(minutes=1))
    ends = {s.end: s.user for s in shifts}
    starts = {s.start: s.user for s in shifts}
    out = []
    for t in sorted(set(ends) | set(starts)):
        if not (start < t <= end):
            continue
        before, after = ends.get(t), starts.get(t)
        if (before and before.pk) == (after and after.pk):
            continue
        out.append(Handoff(rotation, t, before, after))
    return out


def _local(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")


def handoff_email_body(handoff: Handoff, *, now: datetime) -> str:
    rotation = handoff.rotation
    team = rotation.team
    context = handoff_context(team=team, now=now)
    incoming = handoff.incoming
    if incoming is not None:
        context["contact_info"] = [
            f"{incoming.display_name}: email {incoming.email or '(none)'}, phone {incoming.phone or '(none)'}"
        ] + context.get("contact_info", [])
    notes = HandoffNote.objects.filter(
        rotation=rotation, handoff_at__gt=moved(handoff.at, -rotation.step), handoff_at__lte=handoff.at,
    ).select_related("author").order_by("created_at")
    lines = [
        f"Hand-off in {team.name} · {rotation.name} ({rotation.layer}) at {_local(handoff.at, rotation.timezone)}",
        f"Outgoing: {handoff.outgoing.display_name if handoff.outgoing else 'nobody'}",
        f"Incoming: {incoming.display_name if incoming else 'nobody'}",
        "",
        "Checklist:",
    ]
    for key, label in CHECKLIST:
        items = context.get(key) or []
        lines.append(f"[ ] {label}" + ("" if items else ": nothing to report"))
        lines.extend(f"      - {item}" for item in items)
    if notes:
        lines += ["", "Hand-off notes:"]
        lines += [f"  {n.author.display_name}: {n.body}" for n in notes]
    lines += ["", f"{site_url()}/oncall/teams/{team.slug}/"]
    return "\n".join(lines)


def _claim(model, **unique) -> bool:
    """Insert the idempotency row; False when another run already did."""
    try:
        with transaction.atomic():
            _, created = model.objects.get_or_create(**unique)
    except IntegrityError:
        return False
    return created


def send_due_handoffs(*, now: datetime | None = None, teams=None) -> int:
    """E-mail the checklist to the outgoing and incoming person of every hand-off in the last 15 minutes.

    Idempotent: a hand-off is e-mailed once however often this runs. Returns the number of hand-offs e-mailed.
    """
    now = now or djtz.now()
    lo = now - HANDOFF_LOOKBACK
    sent = 0
    for rotation in load_rotations(teams, overrides_between=(lo - timedelta(days=1), now + timedelta(days=1))):
        for handoff in handoffs_between(rotation, lo, now):
            with transaction.atomic():
                if not _claim(HandoffNotice, rotation=rotation, handoff_at=handoff.at, defaults={
                        "outgoing": handoff.outgoing, "incoming": handoff.incoming, "sent_at": now}):
                    continue
                people = {u.pk: u for u in (handoff.outgoing, handoff.incoming) if u is not None}
                if any(u.email for u in people.values()):
                    subject = f"On-call hand-off: {rotation.team.name} · {rotation.name}"
                    body = handoff_email_body(handoff, now=now)
                    for person in people.values():
                        send_to_person(user=person, kind="handoff", subject=subject, body=body, now=now)
            sent += 1
    return sent


def send_shift_reminders(*, now: datetime | None = None, lead: timedelta | None = None, teams=None) -> int:
    """Remind each person ``lead`` (default 24 h) before a shift starts; once per shift. Returns e-mails sent."""
    now = now or djtz.now()
    lead = reminder_lead() if lead is None else lead
    sent = 0
    lo = now - timedelta(minutes=1)
    for rotation in load_rotations(teams, overrides_between=(lo, now + lead + timedelta(days=60))):
        # Look one shift past the lead so the e-mail shows where the shift really ends.
        for shift in final_shifts(rotation, lo, moved(now + lead, rotation.step + timedelta(hours=3))):
            if not (now < shift.start <= now + lead) or not shift.user.email:
                continue
            with transaction.atomic():
                if not _claim(ShiftReminder, rotation=rotation, user=shift.user, shift_start_at=shift.start,
                              defaults={"sent_at": now}):
                    continue
                zone = shift.user.timezone or rotation.timezone
                send_to_person(
                    user=shift.user, kind="reminder", now=now,
                    subject=f"Your on-call shift starts {_local(shift.start, zone)}",
                    body=f"You are on call in {rotation.team.name} · {rotation.name} ({rotation.layer}) "
                         f"from {_local(shift.start, zone)} to {_local(shift.end, zone)}.\n\n"
                         f"{site_url()}/oncall/me/",
                )
            sent += 1
    return sent
