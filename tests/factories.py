"""factory-boy factories shared by every test module."""

import importlib

import factory
from django.utils import timezone

from incidents.models import Incident, Service, Severity
from oncall.models import Membership, Team, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    full_name = factory.LazyAttribute(lambda u: u.username.title())
    password = factory.django.Password("correct-horse-battery")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.replace("-", " ").title())
    timezone = "Europe/Berlin"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    slug = factory.Sequence(lambda n: f"service-{n}")
    name = factory.LazyAttribute(lambda s: s.slug.replace("-", " ").title())
    team = factory.SubFactory(TeamFactory)


def ensure_severities() -> None:
    """Put back the migration's SEV1..SEV4 rows (transactional tests flush them)."""
    seed = importlib.import_module("incidents.migrations.0003_seed_severities")
    for name, rank, ack, resolve, description in seed.SEVERITIES:
        Severity.objects.get_or_create(
            name=name,
            defaults={"rank": rank, "acknowledge_target": ack, "resolve_target": resolve, "description": description},
        )


def severity(name: str = "SEV2") -> Severity:
    """Severities are seeded by a migration; tests use those rows."""
    found = Severity.objects.filter(name=name).first()
    if found is None:
        ensure_severities()
        found = Severity.objects.get(name=name)
    return found


def make_incident(*, team, by=None, title="Checkout is failing", sev="SEV2", services=(), now=None, **kwargs) -> Incident:
    """Declare an incident through the service, exactly as users do."""
    from incidents.services import create_incident

    return create_incident(
        title=title, severity=severity(sev), team=team, by=by, services=list(services),
        now=now or timezone.now(), **kwargs,
    )
