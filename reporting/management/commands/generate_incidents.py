"""``manage.py generate_incidents N``: synthetic resolved incidents, in bulk, for the reporting benchmark.

    manage.py generate_incidents 1000000 --since 2025-01-01 --until 2026-01-01 [--team payments ...] [--seed 1]

The one place Vigil writes incidents without ``incidents.services``, on purpose: a million incidents
declared one by one (numbering, history, checklist, signals, escalation) would take hours, and a
benchmark of the metrics query needs only their rows. So these incidents have no history, timeline,
escalation runs, postmortems or action items, and are numbered ``GEN-<n>`` (no year sequence), which
keeps them apart from real ones. Rows go in with ``bulk_create`` in batches, one transaction each.

The incidents belong to existing teams (all with a service, or those named) and their services, spread
evenly over [since, until); severities, categories and timings follow a fixed pseudo-random draw (``--seed``),
so two runs with the same arguments make the same data.
"""

import random
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max

from incidents.models import Category, Incident, IncidentStatus, Service, Severity, Source

SEVERITY_WEIGHTS = {"SEV1": 5, "SEV2": 15, "SEV3": 40, "SEV4": 40}
CATEGORY_WEIGHTS = {Category.OUTAGE: 20, Category.DEGRADATION: 35, Category.SECURITY: 3, Category.DATA_LOSS: 2,
                    Category.INTEGRATION: 20, Category.OTHER: 20}
PREFIX = "GEN-"


def _day(text: str) -> datetime:
    """A date or time in ISO 8601; without an offset, UTC."""
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"Give a date as YYYY-MM-DD, not {text!r}.") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Generate N synthetic incidents in bulk (no history, escalation or postmortems) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int, help="How many incidents.")
        parser.add_argument("--since", default="2025-01-01", help="First creation date (UTC), YYYY-MM-DD.")
        parser.add_argument("--until", default="2026-01-01", help="End of the creation period (UTC), exclusive.")
        parser.add_argument("--team", action="append", default=[], help="A team's slug (repeatable); default all "
                                                                       "teams with a service.")
        parser.add_argument("--batch", type=int, default=10_000, help="Rows per INSERT transaction.")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the pseudo-random draw.")

    def handle(self, *args, count, since, until, team, batch, seed, **options):
        since, until = _day(since), _day(until)
        if count < 1 or batch < 1:
            raise CommandError("count and --batch must be at least 1.")
        if since >= until:
            raise CommandError("--since must be before --until.")
        services = Service.objects.order_by("team_id", "id")
        if team:
            services = services.filter(team__slug__in=team)
        services = list(services.values_list("id", "team_id"))
        if not services:
            raise CommandError("No service to give the incidents: create a team and a service (or run seed_demo).")
        severities = dict(Severity.objects.values_list("name", "id"))
        targets = {row[0]: row[1:] for row in
                   Severity.objects.values_list("id", "acknowledge_target", "resolve_target")}
        rng = random.Random(seed)
        start = self._first_number()
        span = (until - since).total_seconds()
        made = 0
        while made < count:
            size = min(batch, count - made)
            incidents, links = [], []
            for i in range(size):
                n = start + made + i
                created = since + timedelta(seconds=span * (made + i) / count + rng.random())
                service_id, team_id = rng.choice(services)
                severity = severities[rng.choices(list(SEVERITY_WEIGHTS), weights=SEVERITY_WEIGHTS.values())[0]]
                incidents.append(self._incident(rng, n, created, until, team_id, severity, *targets[severity]))
                links.append(service_id)
            with transaction.atomic():
                Incident.objects.bulk_create(incidents)
                Through = Incident.services.through
                Through.objects.bulk_create(Through(incident_id=incident.pk, service_id=service_id)
                                            for incident, service_id in zip(incidents, links, strict=True))
            made += size
            self.stdout.write(f"{made}/{count}")
        self.stdout.write(self.style.SUCCESS(f"Generated {count} incidents ({PREFIX}{start:09d}…)."))

    def _first_number(self) -> int:
        last = Incident.objects.filter(number__startswith=PREFIX).aggregate(n=Max("number"))["n"]
        return int(last[len(PREFIX):]) + 1 if last else 1

    def _incident(self, rng, n, created, until, team_id, severity_id, ack_target, resolve_target) -> Incident:
        """One incident's row: acknowledged around its target (5 % never), resolved around its (3 % open)."""
        def around(target: timedelta) -> timedelta:
            return timedelta(seconds=target.total_seconds() * rng.lognormvariate(-0.3, 0.8))

        acked = created + around(ack_target) if rng.random() >= 0.05 else None
        identified = acked + around(ack_target) if acked and rng.random() < 0.6 else None
        mitigated = identified + around(ack_target) if identified and rng.random() < 0.7 else None
        resolved = max(filter(None, (created + around(resolve_target), acked, identified, mitigated)))
        if rng.random() < 0.03 or resolved >= until:
            resolved = None
        status = (IncidentStatus.RESOLVED if resolved else IncidentStatus.MONITORING if mitigated
                  else IncidentStatus.IDENTIFIED if identified else IncidentStatus.ACKNOWLEDGED if acked
                  else IncidentStatus.TRIGGERED)
        return Incident(
            number=f"{PREFIX}{n:09d}", year=created.year, title=f"Generated incident {n}", severity_id=severity_id,
            category=rng.choices(list(CATEGORY_WEIGHTS), weights=CATEGORY_WEIGHTS.values())[0], team_id=team_id,
            status=status, source=Source.ADMIN,
            started_at=created - timedelta(minutes=rng.randint(1, 30)) if rng.random() < 0.6 else None,
            created_at=created, acknowledged_at=acked, identified_at=identified, mitigated_at=mitigated,
            resolved_at=resolved,
        )
