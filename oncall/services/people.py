"""Writes for people and teams. Every change goes through one of these."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.links import site_url as default_site_url

from ..models import Membership, Team, User
from ..permissions import require_team_manager
from ..queries import UNKNOWN_MEMBER, addable_members


@transaction.atomic
def create_user(*, username: str, email: str = "", full_name: str = "", timezone: str = "UTC",
                password: str | None = None, is_staff: bool = False, is_superuser: bool = False,
                slack_user_id: str = "", by=None, site_url: str | None = None, invite: bool = True) -> User:
    """Create a person. Without a password, one with an e-mail address is invited to set one
    (unless ``invite`` is False: an imported person is invited later, by staff).

    The invitation (sent after the commit) links to a set-password page whose
    token expires after ``PASSWORD_RESET_TIMEOUT`` and stops working once a
    password is set. ``site_url`` is where the link points (default ``SITE_URL``).
    """
    if by is not None and not by.is_staff:
        raise PermissionDenied("Only staff may create users.")
    user = User(username=username, email=email, full_name=full_name, timezone=timezone, is_staff=is_staff,
                is_superuser=is_superuser, slack_user_id=slack_user_id)
    user.full_clean(exclude=["password"])
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if not password and user.email and invite:
        transaction.on_commit(lambda: send_invitation(user=user, by=by, site_url=site_url))
    return user


@transaction.atomic
def update_user(*, user: User, by, changed: list[str]) -> User:
    """Save a person whose fields ``changed`` were set on ``user`` (the admin's change form): staff only,
    recorded in the person's history with who changed what."""
    if by is not None and not by.is_staff:
        raise PermissionDenied("Only staff may change people's accounts.")
    user._history_user = by
    user._change_reason = "changed " + ", ".join(changed) if changed else "saved"
    user.save()
    return user


@transaction.atomic
def set_slack_user_id(*, user: User, slack_user_id: str, by) -> User:
    """Link (or, with "", unlink) a person's Slack member id: the person themselves or staff.

    Checked like every field (``validate_slack_user_id``) and unique among people, so a Slack
    command always finds one person.
    """
    if by is not None and by.pk != user.pk and not by.is_staff:
        raise PermissionDenied("Only the person themselves or staff may change their Slack member id.")
    user = User.objects.select_for_update().get(pk=user.pk)
    user.slack_user_id = slack_user_id.strip()
    # Only this field is checked: an old account's other fields are not this change's business.
    user.full_clean(exclude=[f.name for f in User._meta.fields if f.name != "slack_user_id"])
    user.save(update_fields=["slack_user_id"])
    return user


def invitation_link(*, user: User, site_url: str | None = None) -> str:
    """The set-password page for ``user``: Django's password-reset token (expiring, single use)."""
    path = reverse("password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user),
    })
    return f"{(site_url or default_site_url()).rstrip('/')}{path}"


def send_invitation(*, user: User, by=None, site_url: str | None = None) -> None:
    """E-mail ``user`` a link to set their password (also what staff use to invite them again)."""
    inviter = f"{by.get_full_name() or by.username} has" if by is not None else "Someone has"
    days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    send_mail(
        "You are invited to Vigil",
        f"Hello {user.full_name or user.username},\n\n"
        f"{inviter} added you to Vigil, where your teams run on-call and incidents.\n"
        f"Your username is {user.username}. Choose your password here (the link works once, "
        f"for {days} day{'s' if days != 1 else ''}):\n\n{invitation_link(user=user, site_url=site_url)}\n",
        settings.DEFAULT_FROM_EMAIL, [user.email],
    )


@transaction.atomic
def create_team(*, slug: str, name: str, timezone: str = "UTC", description: str = "", slack_channel: str = "",
                by=None) -> Team:
    if by is not None and not by.is_staff:
        raise PermissionDenied("Only staff may create teams.")
    team = Team(slug=slug, name=name, timezone=timezone, description=description, slack_channel=slack_channel)
    team.full_clean()
    team.save()
    return team


@transaction.atomic
def update_team(*, team: Team, by=None, **fields) -> Team:
    require_team_manager(by, team, to="change it")
    team = Team.objects.select_for_update().get(pk=team.pk)
    for name, value in fields.items():
        setattr(team, name, value)
    team.full_clean()
    team.save(update_fields=list(fields))
    return team


@transaction.atomic
def set_membership(*, team: Team, user: User, role: str = Membership.Role.MEMBER, by=None) -> Membership:
    """Add a person to a team, or change their role there. Idempotent."""
    require_team_manager(by, team, to="change its members")
    membership = Membership.objects.select_for_update().filter(team=team, user=user).first()
    if membership is None:
        if not addable_members(by).filter(pk=user.pk).exists():
            raise ValidationError({"user": UNKNOWN_MEMBER.format(value=user.username)})
        membership = Membership(team=team, user=user, role=role)
    elif membership.role == role:
        return membership
    membership.role = role
    membership._history_user = by
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def remove_membership(*, membership: Membership, by=None) -> None:
    require_team_manager(by, membership.team, to="change its members")
    membership._history_user = by
    membership.delete()
