"""Load demo data: three teams, a dozen people, services, escalation policies, incidents in every state.

Idempotent: run it twice and the second run changes nothing. Every write goes
through the apps' services, so the demo has the same history and numbering
as real use.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from alerts import services as alert_services
from comms import services as comms_services
from incidents import services as incident_services
from incidents.models import Incident, Service, Severity
from oncall import services as oncall_services
from oncall.models import Membership, Team, User
from postmortems import services as postmortem_services
from postmortems.models import FactorTag

DEMO_PASSWORD = "vigil-demo"  # noqa: S105 — demo data only, printed by `make run`

TEAMS = [
    ("payments", "Payments", "Europe/Berlin"),
    ("search", "Search", "America/New_York"),
    ("platform", "Platform", "Europe/London"),
]
PEOPLE = [
    # username, full name, time zone, team, role
    ("alice", "Alice Archer", "Europe/Berlin", "payments", "lead"),
    ("bob", "Bob Baker", "Europe/Berlin", "payments", "member"),
    ("dana", "Dana Diaz", "Europe/Madrid", "payments", "member"),
    ("erik", "Erik Eriksen", "Europe/Oslo", "payments", "manager"),
    ("charlie", "Charlie Chen", "America/New_York", "search", "lead"),
    ("fatima", "Fatima Farouk", "America/New_York", "search", "member"),
    ("gus", "Gus Green", "America/Chicago", "search", "member"),
    ("hana", "Hana Hayashi", "America/Los_Angeles", "search", "member"),
    ("ivan", "Ivan Ivanov", "Europe/London", "platform", "lead"),
    ("jade", "Jade Jones", "Europe/London", "platform", "member"),
    ("kofi", "Kofi Kumah", "Africa/Accra", "platform", "member"),
    ("lena", "Lena Lindqvist", "Europe/Stockholm", "platform", "member"),
]
# A staff member above the teams: the "next level" of the platform team's SEV1 escalation.
DIRECTOR = ("morgan", "Morgan Mills", "Europe/London")
SERVICES = [
    ("checkout", "Checkout API", "payments", "Takes orders and payments.",
     "# Checkout runbook\n\n1. Check the 5xx rate on the *Checkout* dashboard.\n"
     "2. If the payment provider is failing, switch to the fallback provider.\n"),
    ("payment-gateway", "Payment gateway", "payments", "Talks to card processors.", ""),
    ("search-api", "Search API", "search", "Public search endpoint.",
     "# Search API\n\n- Restart a stuck indexer pod: `kubectl rollout restart deploy/indexer`\n"),
    ("indexer", "Indexer", "search", "Builds the search index.", ""),
    ("kubernetes", "Kubernetes clusters", "platform", "Runs everything.", ""),
    ("postgres", "PostgreSQL", "platform", "Primary databases.", ""),
]
# The public status page: name, team, services, position.
COMPONENTS = [
    ("Checkout", "payments", ["checkout"], 1),
    ("Card payments", "payments", ["payment-gateway"], 2),
    ("Search", "search", ["search-api", "indexer"], 1),
]
# title, team, severity, category, services, path of transitions, hours ago
INCIDENTS = [
    ("Checkout 5xx above 5%", "payments", "SEV1", "outage", ["checkout"], [], 0.05),
    ("Card payments slow in EU", "payments", "SEV2", "degradation", ["payment-gateway"], ["acknowledge"], 0.5),
    ("Search results stale", "search", "SEV3", "degradation", ["indexer"], ["acknowledge", "investigate"], 3),
    ("Search API timeouts", "search", "SEV2", "outage", ["search-api"], ["acknowledge", "identify"], 6),
    ("Node pool out of memory", "platform", "SEV2", "degradation", ["kubernetes"],
     ["acknowledge", "identify", "mitigate"], 10),
    ("Replica lag on orders DB", "platform", "SEV3", "degradation", ["postgres"],
     ["acknowledge", "investigate", "identify", "mitigate", "resolve"], 30),
    ("Refund webhook failures", "payments", "SEV3", "integration", ["checkout"],
     ["acknowledge", "resolve", "close"], 72),
    ("Suspicious login burst", "platform", "SEV1", "security", ["kubernetes"],
     ["acknowledge", "identify", "resolve"], 200),
    ("Typo on receipt e-mail", "payments", "SEV4", "other", ["checkout"], ["resolve"], 400),
]
# The escalation matrix of every team, by severity: (name, description, repeat, steps in the API's form).
# Steps are entered at the sum of the delays before them: SEV1 pages at 0, 15, 30 and 60 minutes.
def policy_matrix(next_level: list[dict]) -> dict[str, tuple]:
    on_call = {"type": "layer", "id": "primary"}
    leads, managers, everyone = {"type": "team_leads"}, {"type": "team_managers"}, {"type": "team"}
    return {
        "SEV1": ("SEV1: on call and lead, then manager, next level, whole team",
                 "At once the primary on-call and the team's leads; the managers after 15 minutes; the next level "
                 "after 30; the whole team after an hour. Runs twice.", 1, [
                     {"delay_minutes": 15, "targets": [on_call, leads]},
                     {"delay_minutes": 15, "targets": [managers]},
                     {"delay_minutes": 30, "targets": next_level},
                     {"delay_minutes": 30, "targets": [everyone]},
                 ]),
        "SEV2": ("SEV2: on call, then lead, then manager",
                 "The primary on-call; the leads after 15 minutes; the managers after 30.", 0, [
                     {"delay_minutes": 15, "targets": [on_call]},
                     {"delay_minutes": 15, "targets": [leads]},
                     {"delay_minutes": 30, "targets": [managers]},
                 ]),
        "SEV3": ("SEV3: on call, then lead after an hour",
                 "The primary on-call; the leads if nobody has acknowledged after an hour.", 0, [
                     {"delay_minutes": 60, "targets": [on_call]},
                     {"delay_minutes": 60, "targets": [leads]},
                 ]),
        "SEV4": ("SEV4: on call only",
                 "The primary on-call, nobody else. The team's default policy.", 0, [
                     {"delay_minutes": 60, "targets": [on_call]},
                 ]),
    }


STEP_MINUTES = {"acknowledge": 4, "investigate": 10, "identify": 25, "mitigate": 20, "resolve": 45, "close": 120}


class Command(BaseCommand):
    help = "Load demo teams, people, services and incidents (idempotent)."

    def handle(self, *args, **options):
        if User.objects.filter(username="alice").exists():
            self.stdout.write("Demo data already loaded.")
            return
        with transaction.atomic():
            keys = self._seed()
        self.stdout.write(self.style.SUCCESS(
            f"Demo data loaded: {Team.objects.count()} teams, {User.objects.count()} people, "
            f"{Service.objects.count()} services, {Incident.objects.count()} incidents."
        ))
        self.stdout.write("Integration keys (shown once; rotate them on the service's Integrations page):")
        for line in keys:
            self.stdout.write(f"  {line}")

    def _seed(self):
        now = timezone.now()
        oncall_services.create_user(
            username="admin", email="admin@example.com", full_name="Vigil Admin", password=DEMO_PASSWORD,
            is_staff=True, is_superuser=True,
        )
        username, full_name, tz = DIRECTOR
        oncall_services.create_user(username=username, email=f"{username}@example.com", full_name=full_name,
                                    timezone=tz, password=DEMO_PASSWORD, is_staff=True)
        teams = {slug: oncall_services.create_team(slug=slug, name=name, timezone=tz) for slug, name, tz in TEAMS}
        people = {}
        for username, full_name, tz, team, role in PEOPLE:
            people[username] = oncall_services.create_user(
                username=username, email=f"{username}@example.com", full_name=full_name, timezone=tz,
                password=DEMO_PASSWORD,
            )
            oncall_services.set_membership(team=teams[team], user=people[username], role=Membership.Role(role))
        services = {
            slug: incident_services.create_service(
                slug=slug, name=name, team=teams[team], description=desc, runbook=runbook, by=None
            )
            for slug, name, team, desc, runbook in SERVICES
        }
        leads = {team: next(people[u] for u, _, _, t, r in PEOPLE if t == team and r == "lead") for team in teams}
        members = {team: [people[u] for u, _, _, t, _ in PEOPLE if t == team] for team in teams}
        self._seed_schedules(teams, members, now)
        self._seed_policies(teams, services)
        keys = self._seed_integrations(services)
        severities = {s.name: s for s in Severity.objects.all()}
        for title, team, sev, category, svc, path, hours_ago in INCIDENTS:
            at = now - timedelta(hours=hours_ago)
            lead = leads[team]
            incident = incident_services.create_incident(
                title=title, severity=severities[sev], team=teams[team], by=lead, category=category,
                services=[services[s] for s in svc], started_at=at - timedelta(minutes=7), now=at,
                description=f"{title}. Declared from the demo data.", source="form",
                customer_facing=sev in ("SEV1", "SEV2"),
            )
            if path:
                incident_services.assign_role(incident=incident, role="commander", user=lead, by=lead,
                                              now=at + timedelta(minutes=2))
                incident_services.assign_role(incident=incident, role="tech_lead", user=members[team][1],
                                              by=lead, now=at + timedelta(minutes=3))
            for name in path:
                at += timedelta(minutes=STEP_MINUTES[name])
                if at > now:
                    at = now
                incident = incident_services.transition_incident(
                    incident=incident, transition=name, by=members[team][1], now=at,
                    note=f"{name} (demo)",
                )
                if name == "identify":
                    incident_services.add_note(incident=incident, by=members[team][1], now=at,
                                               body="Cause found: a bad config push; rolling back.")
                    incident_services.post_status_update(
                        incident=incident, state="identified", public=True, by=lead, now=at,
                        body="We have identified the cause and are rolling out a fix.",
                    )
        self._seed_postmortems(people, now)
        for name, team, svc, position in COMPONENTS:
            comms_services.create_component(team=teams[team], name=name, services=[services[s] for s in svc],
                                            position=position, by=None)
        return keys

    def _seed_postmortems(self, people, now):
        """The security incident's postmortem written, reviewed and published, with its action items (one
        overdue); the replica lag's (a SEV3: optional) started as a draft."""
        ivan, jade, kofi = people["ivan"], people["jade"], people["kofi"]
        burst = Incident.objects.get(title="Suspicious login burst")
        postmortem = postmortem_services.update_postmortem(
            postmortem=burst.postmortem, by=ivan, version=burst.postmortem.version,
            root_cause="A leaked staging token let a scripted client try logins against production.",
            detection_sooner="Yes: a login-failure-rate alert would have fired 20 minutes earlier.",
            went_well="The commander was named at once; the token was revoked within minutes.",
            to_improve="Nobody owned the staging secrets; the runbook had no step for revoking tokens.",
            lessons="Secrets of every environment need an owner and an expiry.",
            budget_consumed="None: no user-facing errors",
            key_events=[e.pk for e in burst.postmortem.events.all() if e.kind in ("created", "status_changed")])
        tag = FactorTag.objects.filter(team=None, name="Detection gap").first()
        if tag is not None:
            postmortem_services.add_factor(postmortem=postmortem, tag=tag, by=ivan,
                                           description="No alert on the login failure rate.")
        for title, owner, days, priority, status in [
            ("Alert on login failure rate", jade, -3, "P1", "done"),
            ("Expire staging tokens after 30 days", kofi, -1, "P1", "in_progress"),
            ("Add token revocation to the runbook", ivan, 14, "P2", "open"),
        ]:
            item = postmortem_services.create_action_item(
                incident=burst, by=ivan, title=title, owner=owner, due_at=now + timedelta(days=days),
                priority=priority)
            if status != "open":
                postmortem_services.set_action_item_status(item=item, status=status, by=owner)
        for name, by in (("submit", ivan), ("approve", jade), ("publish", ivan)):
            postmortem = postmortem_services.transition_postmortem(postmortem=postmortem, transition=name, by=by)
        replica = Incident.objects.get(title="Replica lag on orders DB")
        postmortem_services.start_postmortem(incident=replica, by=jade)

    def _seed_schedules(self, teams, members, now):
        """A weekly primary and a secondary offset by one day, per team, Monday 09:00 local."""
        for slug, team in teams.items():
            local_now = now.astimezone(ZoneInfo(team.timezone))
            monday = (local_now - timedelta(days=local_now.weekday() + 14)).date()
            first = datetime(monday.year, monday.month, monday.day, 9, 0)  # noqa: DTZ001 — a local wall-clock time, by design
            people = members[slug]
            oncall_services.create_rotation(
                team=team, name=f"{team.name} primary", layer="primary", participants=people,
                shift_length="P7D", handoff_at=first, timezone=team.timezone,
            )
            oncall_services.create_rotation(
                team=team, name=f"{team.name} secondary", layer="secondary", participants=people[2:] + people[:2],
                shift_length="P7D", handoff_at=first + timedelta(days=1), timezone=team.timezone,
            )

    def _seed_policies(self, teams, services):
        """Each team's SEV1..SEV4 policies; SEV4 is the team's default and each service's, the others per severity.

        SEV1's next level is the platform team's leads and managers, and for the platform team itself a
        staff director (when there is one)."""
        director = User.objects.filter(is_staff=True, username=DIRECTOR[0]).first()
        severities = {s.name: s for s in Severity.objects.all()}
        for slug, team in teams.items():
            if slug == "platform" and director is not None:
                next_level = [{"type": "user", "id": director.username}]
            else:
                next_level = [{"type": "team_leads", "id": "platform"}, {"type": "team_managers", "id": "platform"}]
            policies = {
                sev: oncall_services.create_policy(team=team, name=name, description=description, repeat=repeat,
                                                   steps=steps, is_default=sev == "SEV4", by=None)
                for sev, (name, description, repeat, steps) in policy_matrix(next_level).items()
            }
            for service in services.values():
                if service.team_id == team.pk:
                    incident_services.update_service(
                        service=service, by=None, reason="demo escalation policies", escalation_policy=policies["SEV4"],
                        escalation_policies={severities[sev]: policies[sev] for sev in ("SEV1", "SEV2", "SEV3")},
                    )

    def _seed_integrations(self, services):
        keys = []
        for slug, kind, name, extra in [
            ("checkout", "events_v2", "Prometheus (PagerDuty format)", {}),
            ("search-api", "alertmanager", "Alertmanager eu-west-1", {}),
            ("postgres", "heartbeat", "Nightly backup", {"interval_seconds": 86400, "grace_seconds": 3600}),
        ]:
            integration, key = alert_services.create_integration(
                service=services[slug], kind=kind, name=name, by=None, **extra
            )
            keys.append(f"{slug} / {kind}: {key}")
        return keys
