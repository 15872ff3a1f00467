"""Every write to a postmortem goes through these functions.

Each owns its transaction and locks the postmortem row before changing it, records who and why in the
history (which the incident's timeline reads: started, submitted, approved, published, reopened), and
checks that the person may work the incident (its team, its responders, staff).

Edits are optimistically locked: ``update_postmortem`` is given the ``version`` the editor started from,
and refuses (``EditConflict``) when someone saved since, so two people editing at once never overwrite
each other; the refused editor gets the current text to compare with theirs and saves again.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.instants import check_instant
from incidents.models import Incident
from incidents.queries import timeline
from incidents.services import can_work
from oncall.models import User

from ..models import (
    ContributingFactor,
    FactorTag,
    Postmortem,
    PostmortemEvent,
    PostmortemStatus,
    Review,
)
from ..models.postmortem import TRANSITIONS
from ..queries import (
    assignable_people,
    commander,
    factor_tags_for,
    incident_facts,
    policy_for,
    prefill,
)

# The text a person edits (and the API's PATCH), besides the owner and the due date.
TEXT_FIELDS = ("summary", "impact", "budget_consumed", "root_cause", "detection", "detection_sooner", "response",
               "went_well", "to_improve", "lessons")
EDITABLE_FIELDS = {*TEXT_FIELDS, "users_affected", "revenue_impact", "owner", "due_at"}
# What follows the incident until a person first saves the draft.
PREFILLED = ("summary", "impact", "users_affected", "revenue_impact", "root_cause", "detection", "response")
# Timeline kinds the postmortem's own timeline leaves out: its own events, which come after it.
_OWN_KINDS = {"postmortem", "action_item"}
VERBS = {"submit": "submitted", "approve": "approved", "publish": "published", "reopen": "reopened"}


class PostmortemConflict(Exception):
    """The request is fine but the postmortem's state refuses it (an API 409 with ``code``)."""

    code = "conflict"

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra


class PostmortemExists(PostmortemConflict):
    code = "postmortem_exists"


class NotEditable(PostmortemConflict):
    code = "postmortem_published"


class EditConflict(PostmortemConflict):
    """Someone saved the postmortem after the version this edit started from."""

    code = "stale_version"

    def __init__(self, *, postmortem: Postmortem, version: int):
        who = postmortem.updated_by.display_name if postmortem.updated_by else "Someone"
        super().__init__(
            f"{who} saved this postmortem after you opened it (you edited version {version}, it is now version "
            f"{postmortem.version}). Your changes are not saved: compare them with the current text, then save "
            "again.", version=postmortem.version)
        self.postmortem = postmortem


class IllegalTransition(PostmortemConflict):
    code = "illegal_transition"

    def __init__(self, message: str, *, postmortem: Postmortem, allowed: list[str]):
        super().__init__(message, status=postmortem.status, allowed=allowed)
        self.postmortem = postmortem
        self.allowed = allowed


def check_can_work(by: User | None, incident: Incident) -> None:
    if by is not None and not can_work(by, incident):
        raise PermissionDenied(f"You are not a member of team {incident.team.slug} nor a responder to "
                               f"{incident.number}.")


def check_person(user: User | None, incident: Incident, field: str, by: User | None) -> None:
    if user is None:
        return
    if not user.is_active:
        raise ValidationError({field: f"{user.username} is deactivated."})
    if not assignable_people(incident, by).filter(pk=user.pk).exists():
        raise ValidationError({field: f"{user.username} is neither a member of team {incident.team.slug} nor a "
                                      f"responder to {incident.number}."})


# --- Creation ------------------------------------------------------------------------

def _events(postmortem: Postmortem, incident: Incident) -> list[PostmortemEvent]:
    """The incident's timeline as postmortem events, leaving out those already copied (same time, kind, text)."""
    known = set(PostmortemEvent.objects.filter(postmortem=postmortem).values_list("at", "kind", "summary"))
    events = []
    for event in timeline(incident):
        if event.kind in _OWN_KINDS or (event.at, event.kind, event.summary) in known:
            continue
        actor = event.actor.display_name if event.actor is not None else ""
        events.append(PostmortemEvent(postmortem=postmortem, at=event.at, kind=event.kind[:32], actor=actor[:150],
                                      summary=event.summary))
    return events


def _create(*, incident: Incident, by: User | None, now: datetime, reason: str,
            owner: User | None = None, due_from: datetime | None = None) -> Postmortem:
    policy = policy_for(incident.severity)
    base = due_from or incident.resolved_at or now
    due_at = base + timedelta(hours=policy.due_hours) if policy.due_hours else None
    owner = commander(incident) or owner or by
    facts = incident_facts(incident)
    postmortem = Postmortem(incident=incident, required=policy.required, due_at=due_at, owner=owner, facts=facts,
                            created_by=by, created_at=now, updated_at=now, updated_by=by,
                            **prefill(incident, facts))
    postmortem._history_user = by
    postmortem._change_reason = reason
    try:
        with transaction.atomic():  # a savepoint: two creations at once, the loser is told it exists
            postmortem.save()
    except IntegrityError:
        raise PostmortemExists(f"{incident.number} already has a postmortem.") from None
    PostmortemEvent.objects.bulk_create(_events(postmortem, incident))
    return postmortem


@transaction.atomic
def ensure_postmortem(*, incident: Incident, by: User | None = None, now: datetime | None = None
                      ) -> Postmortem | None:
    """On resolution: the postmortem the severity's policy requires, due that many hours after resolution,
    owned by the commander (none: whoever resolved it). Idempotent: an incident resolved again keeps its postmortem (a draft nobody has
    edited yet follows the incident again). None when the policy does not require one."""
    now = now or timezone.now()
    existing = Postmortem.objects.select_for_update().filter(incident=incident).first()
    if existing is not None:
        refresh_from_incident(postmortem=existing, now=now)
        return existing
    if not policy_for(incident.severity).required:
        return None
    return _create(incident=incident, by=None, now=now, reason=f"created: {incident.severity.name} requires one",
                   owner=by)


@transaction.atomic
def start_postmortem(*, incident: Incident, by: User | None, now: datetime | None = None) -> Postmortem:
    """A postmortem started by a person, for any severity (SEV3/SEV4 ones are optional), once the incident is
    resolved. Raises PostmortemExists when it has one."""
    now = now or timezone.now()
    locked = Incident.objects.select_for_update(of=("self",)).select_related("team", "severity").get(pk=incident.pk)
    check_can_work(by, locked)
    if locked.is_open:
        raise ValidationError({"incident": f"{locked.number} is still {locked.status}: resolve it first, then "
                                           "write its postmortem."})
    if Postmortem.objects.filter(incident=locked).exists():
        raise PostmortemExists(f"{locked.number} already has a postmortem.")
    return _create(incident=locked, by=by, now=now, reason="created")


@transaction.atomic
def refresh_from_incident(*, postmortem: Postmortem, now: datetime | None = None) -> Postmortem:
    """Bring a draft up to date with its incident: the facts, timeline events not yet copied, and (until a
    person first saves it) the prefilled text. A postmortem in review or published is left as it is."""
    now = now or timezone.now()
    locked = Postmortem.objects.select_for_update(of=("self",)).select_related("incident__team", "incident__severity").get(
        pk=postmortem.pk)
    if locked.status != PostmortemStatus.DRAFT:
        return locked
    incident = locked.incident
    locked.facts = incident_facts(incident)
    fields = ["facts", "updated_at"]
    if locked.edited_at is None:
        for name, value in prefill(incident, locked.facts).items():
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                fields.append(name)
    locked.updated_at = now
    locked._change_reason = "followed the incident"
    locked.save(update_fields=fields)
    PostmortemEvent.objects.bulk_create(_events(locked, incident))
    return locked


@transaction.atomic
def sync_requirement(*, incident: Incident, now: datetime | None = None) -> Postmortem | None:
    """After a severity change: a resolved incident whose new severity requires a postmortem gets one (or its
    optional one becomes required, due from now); one that no longer needs it is no longer required."""
    now = now or timezone.now()
    policy = policy_for(incident.severity)
    locked = Postmortem.objects.select_for_update().filter(incident=incident).first()
    if locked is None:
        if policy.required and not incident.is_open:  # due from now: it was not owed until now
            return _create(incident=incident, by=None, now=now, due_from=now,
                           reason=f"created: {incident.severity.name} requires one")
        return None
    if locked.required == policy.required:
        return locked
    locked.required = policy.required
    fields = ["required", "updated_at"]
    if policy.required and locked.due_at is None:
        locked.due_at = now + timedelta(hours=policy.due_hours)
        fields.append("due_at")
    locked.updated_at = now
    locked._change_reason = f"{'required' if policy.required else 'optional'} now: {incident.severity.name}"
    locked.save(update_fields=fields)
    return locked


# --- Edits ---------------------------------------------------------------------------

def _locked(postmortem: Postmortem) -> Postmortem:
    # Only the postmortem's row is locked (and PostgreSQL locks no row of an outer join: owner may be null).
    return (Postmortem.objects.select_for_update(of=("self",))
            .select_related("incident__team", "incident__severity", "owner", "updated_by").get(pk=postmortem.pk))


def _clean_value(name: str, value):
    if name in TEXT_FIELDS:
        if not isinstance(value, str):
            raise ValidationError({name: "Give text."})
        return value.strip() if name == "budget_consumed" else value.replace("\r\n", "\n")
    if name == "revenue_impact" and value is not None:
        return Decimal(value)
    return value


@transaction.atomic
def update_postmortem(*, postmortem: Postmortem, by: User | None, version: int, now: datetime | None = None,
                      key_events: list[int] | None = None,
                      factors: list[tuple[FactorTag, str]] | None = None, **fields) -> Postmortem:
    """Save an edit made from ``version``: the text sections, numbers, owner and due date, which timeline
    events are key (``key_events``: the ids of all the key ones) and, when given, the contributing factors
    (replacing them all).

    Refuses with EditConflict when someone saved since ``version`` (nothing is written: the first save stands),
    with NotEditable once published (reopen it first). An edit that changes nothing writes nothing.
    """
    now = now or timezone.now()
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    locked = _locked(postmortem)
    incident = locked.incident
    check_can_work(by, incident)
    if not locked.editable:
        raise NotEditable("This postmortem is published: reopen it to edit it.")
    if version != locked.version:
        raise EditConflict(postmortem=locked, version=version)
    values = {name: _clean_value(name, value) for name, value in fields.items()}
    if "owner" in values:
        check_person(values["owner"], incident, "owner", by)
    if "due_at" in values:
        check_instant(values["due_at"], "due_at")
        if values["due_at"] is None and locked.required:
            raise ValidationError({"due_at": "A required postmortem keeps a due date."})
    changed = [name for name, value in values.items() if getattr(locked, name) != value]
    for name in changed:
        setattr(locked, name, values[name])
    key_changed = key_events is not None and _set_key_events(locked, key_events)
    factors_changed = factors is not None and _replace_factors(locked, factors, by=by, now=now)
    if not (changed or key_changed or factors_changed):
        return locked
    locked.full_clean(exclude=["incident", "status", "owner", "created_by", "updated_by", "facts"])
    locked.version += 1
    locked.updated_at = now
    locked.updated_by = by
    locked.edited_at = locked.edited_at or now
    locked._history_user = by
    locked._change_reason = "edited" + (f": {', '.join(changed)}" if changed else "")
    locked.save(update_fields=[*changed, "version", "updated_at", "updated_by", "edited_at"])
    return locked


def _set_key_events(postmortem: Postmortem, ids: list[int]) -> bool:
    events = list(PostmortemEvent.objects.filter(postmortem=postmortem))
    wanted = set(ids)
    unknown = wanted - {e.pk for e in events}
    if unknown:
        raise ValidationError({"key_events": f"No timeline event {min(unknown)} in this postmortem; give the ids "
                                             "of its timeline."})
    flipped = [e for e in events if e.key != (e.pk in wanted)]
    for event in flipped:
        event.key = not event.key
    PostmortemEvent.objects.bulk_update(flipped, ["key"])  # no history of their own: the postmortem's edit is it
    return bool(flipped)


def _replace_factors(postmortem: Postmortem, factors: list[tuple[FactorTag, str]], *, by, now) -> bool:
    offered = set(factor_tags_for(postmortem.incident.team).values_list("pk", flat=True))
    current = list(ContributingFactor.objects.filter(postmortem=postmortem))
    if [(f.tag_id, f.description) for f in current] == [(t.pk, d) for t, d in factors]:
        return False
    for tag, _ in factors:
        if tag.pk not in offered and tag.pk not in {f.tag_id for f in current}:
            raise ValidationError({"contributing_factors": f"Unknown factor tag {tag.name!r} for team "
                                                           f"{postmortem.incident.team.slug}."})
    for factor in current:
        factor._history_user = by
        factor.delete()
    for tag, description in factors:
        factor = ContributingFactor(postmortem=postmortem, tag=tag, description=description.strip())
        factor._history_user = by
        factor.save()
    return True


@transaction.atomic
def add_factor(*, postmortem: Postmortem, tag: FactorTag, description: str = "", by: User | None,
               now: datetime | None = None) -> ContributingFactor:
    """Add one contributing factor, tagged from the team's vocabulary (it does not bump the version: it
    cannot overwrite anyone's text)."""
    now = now or timezone.now()
    locked = _locked(postmortem)
    check_can_work(by, locked.incident)
    if not locked.editable:
        raise NotEditable("This postmortem is published: reopen it to edit it.")
    if not factor_tags_for(locked.incident.team).filter(pk=tag.pk).exists():
        raise ValidationError({"tag": f"{tag.name!r} is not a factor tag of team {locked.incident.team.slug}."})
    factor = ContributingFactor(postmortem=locked, tag=tag, description=description.strip())
    factor._history_user = by
    factor.save()
    return factor


@transaction.atomic
def remove_factor(*, factor: ContributingFactor, by: User | None) -> None:
    locked = _locked(factor.postmortem)
    check_can_work(by, locked.incident)
    if not locked.editable:
        raise NotEditable("This postmortem is published: reopen it to edit it.")
    factor._history_user = by
    factor.delete()


@transaction.atomic
def add_event(*, postmortem: Postmortem, at: datetime, summary: str, by: User | None, key: bool = True
              ) -> PostmortemEvent:
    """Write an event into the postmortem's timeline that the incident's does not have (a deploy an hour
    before the alert, say); key by default."""
    locked = _locked(postmortem)
    check_can_work(by, locked.incident)
    if not locked.editable:
        raise NotEditable("This postmortem is published: reopen it to edit it.")
    check_instant(at, "at")
    summary = summary.strip()
    if not summary:
        raise ValidationError({"summary": "Say what happened."})
    actor = by.display_name if by is not None else ""
    return PostmortemEvent.objects.create(postmortem=locked, at=at, kind="added", actor=actor, summary=summary,
                                          key=key, added_by=by)


@transaction.atomic
def request_review(*, postmortem: Postmortem, reviewers: list[User], by: User | None,
                   now: datetime | None = None) -> list[Review]:
    """Ask people to review (idempotent: someone asked already keeps their request). Anyone but the owner."""
    now = now or timezone.now()
    locked = _locked(postmortem)
    check_can_work(by, locked.incident)
    added = []
    for reviewer in reviewers:
        if reviewer.pk == locked.owner_id:
            raise ValidationError({"reviewers": f"{reviewer.username} owns this postmortem: ask someone else."})
        check_person(reviewer, locked.incident, "reviewers", by)
        review, created = Review.objects.get_or_create(
            postmortem=locked, reviewer=reviewer, defaults={"requested_by": by, "requested_at": now})
        if created:
            added.append(review)
    return added


# --- The lifecycle -------------------------------------------------------------------

def allowed_transitions(postmortem: Postmortem, user: User | None) -> list[str]:
    """The transitions ``user`` may fire now, in lifecycle order (approve: not the owner; publish: approved;
    submit: an owner named)."""
    if user is None:
        available = {t.name for t in postmortem.get_available_status_transitions()} - {"approve"}
    else:
        available = {t.name for t in postmortem.get_available_user_status_transitions(user)}
    return [name for name in TRANSITIONS if name in available]


def _why_not(postmortem: Postmortem, transition: str, by: User | None) -> str:
    status = postmortem.get_status_display().lower()
    if transition == "approve" and postmortem.status == PostmortemStatus.IN_REVIEW:
        return "You own this postmortem: someone other than its author approves it."
    if transition == "publish" and postmortem.status == PostmortemStatus.IN_REVIEW:
        return "Publishing needs an approval by someone other than the author, in this review round."
    if transition == "submit" and postmortem.status == PostmortemStatus.DRAFT:
        return "Name an owner (its author) before submitting it for review."
    return f"Cannot {transition} this postmortem: it is {status}."


@transaction.atomic
def transition_postmortem(*, postmortem: Postmortem, transition: str, by: User | None, note: str = "",
                          now: datetime | None = None) -> Postmortem:
    """Submit, approve, publish or reopen, with the row locked; each is on the incident's timeline.

    Submitting starts a review round; an approval counts in its round only, so a reopened postmortem is
    approved again. Approving twice changes nothing. Raises IllegalTransition (with the allowed ones).
    """
    now = now or timezone.now()
    if transition not in TRANSITIONS:
        raise ValidationError({"transition": f"Unknown transition {transition!r}; use one of {', '.join(TRANSITIONS)}."})
    locked = _locked(postmortem)
    check_can_work(by, locked.incident)
    allowed = allowed_transitions(locked, by)
    if transition not in allowed:
        raise IllegalTransition(_why_not(locked, transition, by), postmortem=locked, allowed=allowed)
    if transition == "approve":
        review, _ = Review.objects.select_for_update().get_or_create(
            postmortem=locked, reviewer=by, defaults={"requested_by": by, "requested_at": now})
        if review.approved_round == locked.review_round:
            return locked
        review.approved_at, review.approved_round = now, locked.review_round
        review._history_user = by
        review.save(update_fields=["approved_at", "approved_round"])
    getattr(locked, transition)(now=now)
    locked.updated_at = now
    locked._history_user = by
    note = note.strip()
    locked._change_reason = VERBS[transition] + (f": {note}" if note else "")
    locked.save()
    return locked
