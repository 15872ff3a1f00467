"""Paging people by hand from an incident: a person, a team's on-call, a whole team, a rotation or a policy.

The people paged become the incident's responders, so they may see and work
that incident even when it belongs to a team they are not in.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, Responder
from incidents.services import add_responders, can_work
from oncall.models import EscalationPolicy, Rotation, Team, User
from oncall.queries import reach_targets

from ..models import Notification, PagingEvent, urgency_of
from . import messages
from .notify import page_people

PAGE_TARGET_TYPES = ("user", "team", "team_members", "rotation", "policy")
MAX_PAGE_TARGETS = 20


def _stored_targets(targets: list[dict]) -> tuple[list[dict], list[int]]:
    """API targets (usernames, slugs, ids) as stored policy targets, and the teams they name."""
    if not isinstance(targets, list) or not targets:
        raise ValidationError({"targets": "Name at least one target: {type, id} with type one of "
                                          f"{', '.join(PAGE_TARGET_TYPES)}."})
    if len(targets) > MAX_PAGE_TARGETS:
        raise ValidationError({"targets": f"Page at most {MAX_PAGE_TARGETS} targets at once."})
    stored, teams = [], []
    for target in targets:
        if not isinstance(target, dict) or target.get("type") not in PAGE_TARGET_TYPES or "id" not in target:
            raise ValidationError({"targets": f"Each target is {{type, id}} with type one of {', '.join(PAGE_TARGET_TYPES)}."})
        kind, ident = target["type"], target["id"]
        if kind == "user":
            user = User.objects.filter(username=str(ident), is_active=True).first()
            if user is None:
                raise ValidationError({"targets": f"No active person has the username {ident!r}."})
            stored.append({"type": "user", "id": user.pk})
        elif kind in ("team", "team_members"):
            team = Team.objects.filter(slug=str(ident)).first()
            if team is None:
                raise ValidationError({"targets": f"No team has the slug {ident!r}."})
            teams.append(team.pk)
            stored.append({"type": "layer", "id": "primary", "team": team.pk} if kind == "team"
                          else {"type": "team", "id": team.pk})
        elif kind == "rotation":
            rotation = Rotation.objects.filter(pk=ident).first() if isinstance(ident, int) or (str(ident).isascii() and str(ident).isdigit()) else None
            if rotation is None:
                raise ValidationError({"targets": f"No rotation has the id {ident!r}."})
            stored.append({"type": "rotation", "id": rotation.pk})
        else:
            policy = EscalationPolicy.objects.filter(pk=ident).first() if isinstance(ident, int) or (str(ident).isascii() and str(ident).isdigit()) else None
            if policy is None:
                raise ValidationError({"targets": f"No escalation policy has the id {ident!r}."})
            stored.extend({**t, "team": policy.team_id} if t["type"] == "layer" else t for t in policy.steps[0]["targets"])
    return stored, teams


def page(*, incident: Incident, targets: list[dict], by: User, message: str = "",
         now: datetime | None = None) -> list[Notification]:
    """Page ``targets`` about ``incident`` now, with ``message``; they become its responders.

    Raises ValidationError when a target does not exist or reaches nobody, PermissionDenied when
    ``by`` may not work the incident.
    """
    now = now or timezone.now()
    message = (message or "").strip()
    if len(message) > 1000:
        raise ValidationError({"message": "Keep the message under 1,000 characters."})
    if by is not None and not can_work(by, incident):
        raise PermissionDenied(f"You are not a member of team {incident.team.slug} nor a responder to {incident.number}.")
    stored, _ = _stored_targets(targets)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().select_related("severity", "team").get(pk=incident.pk)
        on_call: dict = {}
        reached = []
        # A layer target names its own team (a team's on-call); the rest carry their ids.
        for target in stored:
            team_id = target.pop("team", locked.team_id)
            reached.extend(reach_targets([target], team_id=team_id, at=now, on_call=on_call))
        people = list({p.pk: p for r in reached for p in r.people}.values())
        if not people:
            raise ValidationError({"targets": "Nobody is reached: " + ", ".join(r.label for r in reached)
                                   + ". Page a person instead."})
        notifications = page_people(
            users=people, urgency=urgency_of(locked.severity), incident=locked, sent_by=by,
            subject=f"{messages.page_subject(locked)} (paged by {by.display_name if by else 'Vigil'})",
            body=lambda n: messages.page_body(n, locked, note=message), now=now,
        )
        add_responders(incident=locked, users=people, by=by, via=Responder.Via.PAGE, now=now)
        names = ", ".join(p.display_name for p in people)
        PagingEvent.objects.create(
            incident=locked, kind=PagingEvent.Kind.PAGED, actor=by, at=now,
            summary=(f"Paged {names} ({', '.join(r.label for r in reached)})" + (f": {message}" if message else ""))[:500],
            data={"users": [p.username for p in people], "message": message},
        )
    return notifications
