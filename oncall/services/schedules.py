"""Writes for schedules: rotations, participants, overrides, swaps, calendar tokens, hand-off notes.

Each function takes keyword-only arguments, owns one transaction, locks the
rows it changes and records the acting user in history. E-mails (swap
requests and answers) are handed to ``hooks.send_to_person`` inside the
transaction and go out after it has committed, so a rolled-back change never
tells anyone anything.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone as djtz

from core.instants import check_cover_length, check_instant, place, range_message, shown
from core.links import site_url

from ..hooks import send_to_person
from ..models import (
    CalendarToken,
    HandoffNote,
    Membership,
    Override,
    Rotation,
    RotationParticipant,
    SwapRequest,
    Team,
    User,
)
from ..models.people import validate_timezone
from ..models.schedule import new_calendar_secret, parse_shift_length, validate_restrictions
from ..permissions import can_view_team, require_team_manager
from ..queries import rotations_with_overrides
from ..schedule import handoff_instant, next_shift
from ..schedule_files import parse_instant, parse_schedule, rotation_document
from .escalation import import_policies

ROTATION_FIELDS = ("name", "layer", "shift_length", "handoff_at", "timezone", "ends_at", "restrictions")


def _require_members(team: Team, users) -> None:
    member_ids = set(Membership.objects.filter(team=team, user__in=users).values_list("user_id", flat=True))
    strangers = [u.username for u in users if u.pk not in member_ids]
    if strangers:
        raise ValidationError(
            {"participants": f"Not members of team {team.slug}: {', '.join(strangers)}. Add them to the team first."}
        )


def _check_timezone(value: str) -> None:
    try:
        validate_timezone(value)
    except ValidationError as exc:
        raise ValidationError({"timezone": exc.messages}) from exc


def _apply_fields(rotation: Rotation, fields: dict) -> list[str]:
    """Set rotation fields from the API vocabulary; return the model fields that changed."""
    changed = []

    def put(name, value):
        if getattr(rotation, name) != value:
            setattr(rotation, name, value)
            changed.append(name)

    for key, value in fields.items():
        if key == "shift_length":
            try:
                count, unit = parse_shift_length(value)
            except ValueError as exc:
                raise ValidationError({"shift_length": str(exc)}) from exc
            put("shift_count", count)
            put("shift_unit", unit)
        elif key == "handoff_at":
            if value.tzinfo is not None:
                raise ValidationError({"handoff_at": "Give the first hand-off as a local date-time without an offset, "
                                                     "e.g. '2026-03-02T09:00'; the rotation's timezone places it."})
            put("handoff_date", value.date())
            put("handoff_time", value.time().replace(microsecond=0))
        elif key == "timezone":
            _check_timezone(value)
            put("timezone", value)
        elif key == "restrictions":
            validate_restrictions(value or [])
            put("restrictions", value or [])
        elif key in ("name", "layer", "ends_at"):
            put(key, value)
        else:
            raise ValidationError({key: "Not a rotation field."})
    if "ends_at" in fields:
        check_instant(rotation.ends_at, "ends_at")
    if {"handoff_at", "timezone"} & set(fields) and rotation.handoff_date is not None and rotation.timezone:
        # Every shift is counted from the first hand-off: it must be an instant that can be stored and read.
        if place(rotation.first_handoff, ZoneInfo(rotation.timezone)) is None:
            raise ValidationError({"handoff_at": range_message(f"The first hand-off, {shown(rotation.first_handoff)} "
                                                               f"in {rotation.timezone},")})
    return changed


def _write_participants(rotation: Rotation, users: list[User], effective_from: datetime) -> None:
    # Later versions are superseded by this change; earlier ones stay, so past shifts stay as they were.
    rotation.participants.filter(effective_from__gte=effective_from).delete()
    RotationParticipant.objects.bulk_create(
        RotationParticipant(rotation=rotation, user=u, position=i, effective_from=effective_from)
        for i, u in enumerate(users)
    )


@transaction.atomic
def create_rotation(*, team: Team, name: str, participants: list[User], shift_length: str,
                    handoff_at: datetime, timezone: str, layer: str = Rotation.PRIMARY,
                    ends_at: datetime | None = None, restrictions: list | None = None,
                    by=None, now: datetime | None = None) -> Rotation:
    """Create a rotation and its first participant set (which also covers all time before it)."""
    require_team_manager(by, team, to="create rotations")
    if not participants:
        raise ValidationError({"participants": "A rotation needs at least one participant."})
    _require_members(team, participants)
    rotation = Rotation(team=team)
    _apply_fields(rotation, {"name": name, "layer": layer or Rotation.PRIMARY, "shift_length": shift_length,
                             "handoff_at": handoff_at, "timezone": timezone, "ends_at": ends_at,
                             "restrictions": restrictions or []})
    if Rotation.objects.filter(team=team, name=name).exists():
        raise ValidationError({"name": f"Team {team.slug} already has a rotation named {name!r}."})
    rotation.full_clean()
    rotation._history_user = by
    rotation._change_reason = "created"
    rotation.save()
    _write_participants(rotation, participants, handoff_instant(rotation, 0))
    return rotation


@transaction.atomic
def update_rotation(*, rotation: Rotation, by=None, reason: str = "", **fields) -> Rotation:
    """Change rotation settings; a no-op change writes nothing (no history row)."""
    require_team_manager(by, rotation.team, to="change rotations")
    rotation = Rotation.objects.select_for_update().get(pk=rotation.pk)
    changed = _apply_fields(rotation, fields)
    if not changed:
        return rotation
    if "name" in changed and Rotation.objects.filter(team=rotation.team_id, name=rotation.name).exclude(pk=rotation.pk).exists():
        raise ValidationError({"name": f"The team already has a rotation named {rotation.name!r}."})
    rotation.full_clean()
    rotation._history_user = by
    rotation._change_reason = reason or f"changed {', '.join(changed)}"
    rotation.save(update_fields=changed)
    return rotation


@transaction.atomic
def set_participants(*, rotation: Rotation, participants: list[User], effective_from: datetime,
                     by=None) -> Rotation:
    """Use ``participants`` (in this order) from ``effective_from`` on; shifts before it are untouched.

    A shift running at ``effective_from`` is split there. Changes planned for
    later moments are replaced by this one.
    """
    require_team_manager(by, rotation.team, to="change rotations")
    if djtz.is_naive(effective_from):
        raise ValidationError({"effective_from": "Give the moment with its UTC offset."})
    check_instant(effective_from, "effective_from")
    _require_members(rotation.team, participants)
    rotation = Rotation.objects.select_for_update().get(pk=rotation.pk)
    _write_participants(rotation, participants, effective_from)
    # Participants are not historied themselves; the rotation's history notes the change.
    rotation._history_user = by
    rotation._change_reason = (
        f"participants from {effective_from.isoformat()}: {', '.join(u.username for u in participants) or 'nobody'}"
    )
    rotation.save(update_fields=["name"])
    return rotation


def check_override(*, rotation: Rotation, user: User, start: datetime, end: datetime) -> None:
    """What ``create_override`` refuses of its input (ValidationError keyed ``start``, ``end``,
    ``participants``), for a form that shows it before saving (the admin's)."""
    if djtz.is_naive(start) or djtz.is_naive(end):
        raise ValidationError({"start": "Give start and end with their UTC offset."})
    check_instant(start, "start")
    check_instant(end, "end")
    if end <= start:
        raise ValidationError({"end": "The override must end after it starts."})
    check_cover_length(start, end, "An override")
    _require_members(rotation.team, [user])


@transaction.atomic
def create_override(*, rotation: Rotation, user: User, start: datetime, end: datetime, by=None,
                    reason: str = "") -> Override:
    """``user`` takes [start, end) of ``rotation``; it wins over every override created before it."""
    if by is not None and not can_view_team(by, rotation.team):
        raise PermissionDenied("Only members of the rotation's team may override it.")
    check_override(rotation=rotation, user=user, start=start, end=end)
    override = Override(rotation=rotation, user=user, start_at=start, end_at=end, reason=reason,
                        created_by=by if by is not None and by.is_authenticated else None)
    override._history_user = by
    override._change_reason = reason or "override"
    override.save()
    return override


@transaction.atomic
def delete_override(*, override: Override, by=None) -> None:
    if by is not None and not can_view_team(by, override.rotation.team):
        raise PermissionDenied("Only members of the rotation's team may remove its overrides.")
    override._history_user = by
    override.delete()


# --- Swaps --------------------------------------------------------------------------

def _mail(subject: str, body: str, *users: User, now: datetime | None = None) -> None:
    """Each person's own e-mail (kind "swap"), sent once the caller's transaction commits."""
    for user in users:
        send_to_person(user=user, kind="swap", subject=subject, body=body, now=now)


def _swap_text(swap: SwapRequest) -> str:
    return (f"{swap.requester.display_name} asked {swap.recipient.display_name} to take "
            f"{swap.rotation.team.name} · {swap.rotation.name} from {swap.start_at:%Y-%m-%d %H:%M} "
            f"to {swap.end_at:%Y-%m-%d %H:%M} UTC.\n\n{swap.message}\n\n"
            f"{site_url()}/oncall/teams/{swap.rotation.team.slug}/")


def request_swap(*, rotation: Rotation, requester: User, recipient: User, start: datetime, end: datetime,
                 message: str = "", now: datetime | None = None) -> SwapRequest:
    """Ask ``recipient`` to take [start, end); both are emailed."""
    with transaction.atomic():
        if djtz.is_naive(start) or djtz.is_naive(end):
            raise ValidationError({"start": "Give start and end with their UTC offset."})
        check_instant(start, "start")
        check_instant(end, "end")
        if end <= start:
            raise ValidationError({"end": "The swap must end after it starts."})
        check_cover_length(start, end, "A swap")
        if requester.pk == recipient.pk:
            raise ValidationError({"recipient": "Ask someone other than yourself."})
        _require_members(rotation.team, [requester, recipient])
        swap = SwapRequest.objects.create(rotation=rotation, requester=requester, recipient=recipient,
                                          start_at=start, end_at=end, message=message,
                                          created_at=now or djtz.now())
        _mail(f"Swap request: {rotation.team.name} · {rotation.name}", _swap_text(swap), requester, recipient,
              now=now)
    return swap


def _decide(swap: SwapRequest, *, by: User, status: str, now) -> SwapRequest:
    swap = SwapRequest.objects.select_for_update().select_related("rotation__team").get(pk=swap.pk)
    if swap.status != SwapRequest.Status.REQUESTED:
        raise ValidationError({"status": f"This swap is already {swap.status}."})
    if status == SwapRequest.Status.CANCELLED:
        if by.pk != swap.requester_id:
            raise PermissionDenied("Only the person who asked may cancel a swap request.")
    elif by.pk != swap.recipient_id:
        raise PermissionDenied("Only the person asked may accept or decline a swap request.")
    swap.status = status
    swap.decided_at = now or djtz.now()
    fields = ["status", "decided_at"]
    if status == SwapRequest.Status.ACCEPTED:
        swap.override = create_override(rotation=swap.rotation, user=swap.recipient, start=swap.start_at,
                                        end=swap.end_at, by=by, reason=f"swap #{swap.pk}")
        fields.append("override")
    swap.save(update_fields=fields)
    return swap


def _answer(swap: SwapRequest, *, by: User, status: str, now) -> SwapRequest:
    """Decide the swap in one transaction, which e-mails both people once it has committed."""
    with transaction.atomic():
        swap = _decide(swap, by=by, status=status, now=now)
        _mail(f"Swap {status}: {swap.rotation.team.name} · {swap.rotation.name}", _swap_text(swap),
              swap.requester, swap.recipient, now=now)
    return swap


def accept_swap(*, swap: SwapRequest, by: User, now: datetime | None = None) -> SwapRequest:
    """The recipient takes the time: an override is created; both are emailed."""
    return _answer(swap, by=by, status=SwapRequest.Status.ACCEPTED, now=now)


def decline_swap(*, swap: SwapRequest, by: User, now: datetime | None = None) -> SwapRequest:
    """The recipient says no; both are emailed."""
    return _answer(swap, by=by, status=SwapRequest.Status.DECLINED, now=now)


def cancel_swap(*, swap: SwapRequest, by: User, now: datetime | None = None) -> SwapRequest:
    """The requester withdraws the request; both are emailed."""
    return _answer(swap, by=by, status=SwapRequest.Status.CANCELLED, now=now)


# --- Calendar tokens and hand-off notes ----------------------------------------------

@transaction.atomic
def calendar_token_for(*, user: User | None = None, team: Team | None = None) -> CalendarToken:
    """The feed token of a person or a team, created on first use."""
    token, _ = CalendarToken.objects.get_or_create(user=user, team=team)
    return token


@transaction.atomic
def rotate_calendar_token(*, user: User | None = None, team: Team | None = None, by=None,
                          now: datetime | None = None) -> CalendarToken:
    """Replace the secret: the old feed URL stops working at once."""
    if team is not None:
        require_team_manager(by, team, to="rotate its calendar link")
    token, _ = CalendarToken.objects.select_for_update().get_or_create(user=user, team=team)
    token.token = new_calendar_secret()
    token.rotated_at = now or djtz.now()
    token.save(update_fields=["token", "rotated_at"])
    return token


@transaction.atomic
def write_handoff_note(*, rotation: Rotation, author: User, body: str, handoff_at: datetime | None = None,
                       now: datetime | None = None) -> HandoffNote:
    """A note for the incoming person at ``handoff_at`` (default: the rotation's next hand-off)."""
    if not can_view_team(author, rotation.team):
        raise PermissionDenied("Only members of the team may write hand-off notes.")
    if not body.strip():
        raise ValidationError({"body": "Write something for the incoming person."})
    now = now or djtz.now()
    if handoff_at is None:
        upcoming = next_shift(rotation, now)
        handoff_at = upcoming.start if upcoming else now
    return HandoffNote.objects.create(rotation=rotation, author=author, body=body.strip(),
                                      handoff_at=handoff_at, created_at=now)


# --- Schedule files --------------------------------------------------------------------

@transaction.atomic
def import_schedule(*, team: Team, text: str, by=None) -> dict:
    """Make the team's rotations match a schedule file; returns counts of what changed.

    Rotations (and escalation policies) are matched by name; those missing
    from the file are left alone. Participant sets and overrides are replaced only where they differ
    (overrides keep the file's order, which is their precedence), so a file
    that matches the database writes nothing, not even history rows.
    """
    require_team_manager(by, team, to="import its schedule")
    try:
        document = parse_schedule(text)
    except ValueError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    existing = {r.name: r for r in rotations_with_overrides(team)}
    usernames = {u for r in document["rotations"] for v in r["participants"] for u in v["users"]}
    usernames |= {o["user"] for r in document["rotations"] for o in r.get("overrides") or []}
    people = {u.username: u for u in User.objects.filter(username__in=usernames)}
    unknown = sorted(usernames - set(people))
    if unknown:
        raise ValidationError({"file": f"Unknown users: {', '.join(unknown)}."})
    counts = {"created": 0, "updated": 0, "participants": 0, "overrides": 0}
    for item in document["rotations"]:
        try:
            fields = {
                "layer": item["layer"], "shift_length": item["shift_length"], "timezone": item["timezone"],
                "handoff_at": datetime.fromisoformat(str(item["handoff_at"])),
                "ends_at": parse_instant(item.get("ends_at"), f"{item['name']} ends_at"),
                "restrictions": item.get("restrictions") or [],
            }
            versions = [(parse_instant(v["from"], f"{item['name']} participants"), v["users"])
                        for v in item["participants"]]
            overrides = [(o["user"], parse_instant(o["start"], "override start"), parse_instant(o["end"], "override end"),
                          o.get("reason") or "") for o in item.get("overrides") or []]
        except ValueError as exc:
            raise ValidationError({"file": str(exc)}) from exc
        if not versions or not versions[0][1]:
            raise ValidationError({"file": f"Rotation {item['name']!r} needs participants."})
        rotation = existing.get(item["name"])
        if rotation is None:
            rotation = create_rotation(team=team, name=item["name"], participants=[people[u] for u in versions[0][1]],
                                       by=by, **fields)
            counts["created"] += 1
            current = rotation_document(rotation)
        else:
            current = rotation_document(rotation)
            as_file = {
                "layer": item["layer"], "shift_length": item["shift_length"], "timezone": item["timezone"],
                "handoff_at": fields["handoff_at"].isoformat(),
                "ends_at": fields["ends_at"].isoformat() if fields["ends_at"] else None,
                "restrictions": fields["restrictions"],
            }
            if any(current[key] != value for key, value in as_file.items()):
                rotation = update_rotation(rotation=rotation, by=by, reason="imported", **fields)
                counts["updated"] += 1
        wanted = [{"from": f.isoformat() if f else None, "users": users} for f, users in versions]
        if current["participants"] != wanted:
            for user_list in (users for _, users in versions):
                _require_members(team, [people[u] for u in user_list])
            rotation.participants.all().delete()
            for moment, users in versions:
                _write_participants(rotation, [people[u] for u in users], moment or handoff_instant(rotation, 0))
            counts["participants"] += 1
        have = [(o["user"], o["start"], o["end"], o["reason"]) for o in current["overrides"]]
        want = [(u, s.isoformat(), e.isoformat(), r) for u, s, e, r in overrides]
        if have != want:
            same = 0
            while same < min(len(have), len(want)) and have[same] == want[same]:
                same += 1
            stale = sorted(rotation.overrides.all(), key=lambda o: (o.created_at, o.id))[same:]
            for override in stale:
                delete_override(override=override, by=by)
            for username, start, end, reason in overrides[same:]:
                create_override(rotation=rotation, user=people[username], start=start, end=end, reason=reason, by=by)
            counts["overrides"] += 1
    if "policies" in document:  # after the rotations: a policy may name a layer the file just made
        counts["policies"] = import_policies(team=team, items=document["policies"], by=by)
    return counts
