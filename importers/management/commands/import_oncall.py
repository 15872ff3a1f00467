"""``manage.py import_oncall --from pagerduty --token …``: bring on-call over from another tool.

A dry run by default: it prints what would be created, matched or skipped and
what cannot come over, and writes nothing. ``--apply`` writes it through the
services (``importers.services.run_import``) and checks fidelity.
"""

from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from oncall.models import User

from ...fidelity import check_fidelity
from ...http import SourceError
from ...report import render
from ...services import run_import
from ...sources import SOURCES


class Command(BaseCommand):
    help = "Import people, teams, schedules, escalation policies and integrations from another on-call tool."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", required=True, choices=sorted(SOURCES),
                            help="The tool to import from.")
        parser.add_argument("--token", help="The tool's REST API key (PagerDuty: a read-only REST API key).")
        parser.add_argument("--url", help="The tool's REST API address (PagerDuty: https://api.pagerduty.com).")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="Only report (the default).")
        mode.add_argument("--apply", action="store_true", help="Write what the dry run reports.")
        files = parser.add_mutually_exclusive_group()
        files.add_argument("--save", metavar="DIR", help="Also write the API's answers to DIR, for --from-file.")
        files.add_argument("--from-file", metavar="DIR", help="Read a saved export instead of the API.")
        parser.add_argument("--by", metavar="USERNAME", help="The staff member the changes are recorded as "
                                                             "(default: Vigil itself).")
        parser.add_argument("--invite", action="store_true", help="E-mail each new person an invitation "
                                                                  "(default: staff invite them later).")
        parser.add_argument("--now", help="Pretend it is this instant (ISO 8601 with offset), to reproduce a run.")

    def handle(self, *args, source, token, url, apply, save, from_file, by, invite, now, **options):
        adapter = SOURCES[source]
        try:
            now = datetime.fromisoformat(now) if now else timezone.now()
        except ValueError:
            raise CommandError(f"--now {now!r} is not an ISO 8601 instant, such as 2027-03-01T12:00:00+00:00.") from None
        if timezone.is_naive(now):
            raise CommandError("--now needs its UTC offset, such as 2027-03-01T12:00:00+00:00.")
        actor = None
        if by:
            actor = User.objects.filter(username=by, is_staff=True, is_active=True).first()
            if actor is None:
                raise CommandError(f"--by {by!r}: no active staff member has that username.")
        url = url or adapter.DEFAULT_URL
        try:
            if from_file:
                raw = adapter.load(Path(from_file))
                url = f"{from_file} (saved from {raw['manifest'].get('url', '?')})"
            else:
                if not token:
                    raise CommandError("Give --token (the tool's REST API key), or --from-file DIR.")
                raw = adapter.fetch(token=token, url=url, now=now)
            if save:
                adapter.save(raw, Path(save))
                self.stdout.write(f"Saved the answers to {save}; import them with --from-file {save}.")
            export = adapter.to_export(raw)
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise CommandError(f"The {source} answers are not shaped as expected ({exc!r}); nothing was written.") \
                from None
        report = run_import(export, apply=apply, by=actor, invite=invite, now=now)
        imported = apply or any(line.action == "exists" for line in report.lines if line.kind == "rotation")
        fidelity = check_fidelity(export, now=now) if imported else None
        self.stdout.write(render(report, fidelity, url=url))
        if report.errors:
            raise CommandError(f"{len(report.errors)} team(s) could not be imported; see Errors above.")
