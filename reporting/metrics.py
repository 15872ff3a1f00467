"""Incident metrics: one computation for the API, the CSV, the pages and the mails.

``metrics(user=, scope=, group_by=)`` answers one row per group (severity,
team, service, category or month, or one row for everything) with counts,
MTTx means beside their median, p90 and count, target compliance, the
escalation rate, postmortems and action items (definitions: reporting/README.md).

The database does the work, in one query of three levels:

1. ``_rows``, an ORM queryset: one row per incident in scope (per incident
   and service when grouping by service) with its group key and its
   durations in seconds, its target compliance as 1 (met), 0 (breached) or
   NULL (not yet decided), and its flags;
2. a rank and a count per duration (``ROW_NUMBER``/``COUNT`` windows over the
   group), which the SQLite percentile reads; PostgreSQL's planner drops
   them, unused;
3. per group: ``COUNT``, ``AVG``, ``SUM`` and the percentiles.

The ORM cannot aggregate over window functions by group, so levels 2 and 3
are composed around level 1's SQL from the column names below; the only
difference between the databases is ``_percentile``: PostgreSQL's
``percentile_cont`` on one side, the same linear interpolation from the
ranks on the other. Nothing loops over incidents in Python.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.expressions import TemporalSubtraction
from django.db.models.functions import Cast, Coalesce, Lag, TruncMonth
from django.db.models.lookups import LessThan
from django.utils import timezone

from incidents.models import Incident, Service, Severity
from oncall.models import Team
from paging.models import Notification
from postmortems.models import ActionItem
from postmortems.models.action_item import ACTIVE_STATUSES, ActionItemStatus

GROUPS = ("severity", "team", "service", "category", "month")
REPEAT_WINDOW = timedelta(days=30)
DEFAULT_PERIOD = timedelta(days=30)  # what a report covers when no period is given: up to now

# The durations, each reported as a mean beside its median, p90 and count:
# (row field prefix, level-1 column).
DURATIONS = [
    ("mtta", "ack_s"),  # created → first explicit acknowledgement
    ("mttr", "res_s"),  # created → resolved
    ("mttd", "det_s"),  # impact started → created
    ("mttm", "mit_s"),  # created → mitigated
    ("mtti", "idf_s"),  # acknowledged → identified
    ("mtbf", "gap_s"),  # previous incident of the service resolved → this one started (group_by=service)
]

# The row, in order: ../shared/API.md's fields first, then the additions.
API_FIELDS = [
    "key", "incidents", "mtta_seconds", "mtta_p50_seconds", "mtta_p90_seconds", "mttr_seconds",
    "mttr_p50_seconds", "mttr_p90_seconds", "mttd_seconds", "mttm_seconds", "never_acknowledged",
    "ack_sla_met_pct", "resolve_sla_met_pct", "escalated_pct", "postmortems_due", "postmortems_on_time_pct",
    "action_items_open", "action_items_done_pct",
]
EXTRA_FIELDS = [
    *(f"{prefix}_{part}" for prefix, _ in DURATIONS for part in ("seconds", "p50_seconds", "p90_seconds", "count")
      if f"{prefix}_{part}" not in API_FIELDS),
    "never_resolved", "ack_sla_breached", "resolve_sla_breached", "escalated", "repeat_incidents",
    "postmortems_published_on_time", "postmortems_late", "action_items_done", "action_items_total",
]
ROW_FIELDS = [*API_FIELDS, *EXTRA_FIELDS]


@dataclass(frozen=True)
class Scope:
    """Which incidents a report covers: created in [since, until), narrowed by the filters.

    ``tz`` is the zone months are cut in (``group_by=month``).
    """

    since: datetime
    until: datetime
    tz: ZoneInfo
    team: Team | None = None
    service: Service | None = None
    severity: Severity | None = None
    category: str | None = None
    exclude_categories: tuple[str, ...] = ()


def incidents_in(scope: Scope, user) -> QuerySet[Incident]:
    """The incidents a report of ``scope`` counts: only those ``user`` may see."""
    found = Incident.objects.visible_to(user).filter(created_at__gte=scope.since, created_at__lt=scope.until)
    if scope.team is not None:
        found = found.filter(team=scope.team)
    if scope.service is not None:
        found = found.filter(services=scope.service)
    if scope.severity is not None:
        found = found.filter(severity=scope.severity)
    if scope.category:
        found = found.filter(category=scope.category)
    if scope.exclude_categories:
        found = found.exclude(category__in=scope.exclude_categories)
    return found


# --- Level 1: one row per incident (and service), in the ORM -------------------------------------------------------

class Seconds(Func):
    """Seconds from ``start`` to ``end`` (two datetimes) as a float; NULL if either is NULL.

    Django subtracts datetimes on each database (an interval on PostgreSQL, microseconds on SQLite);
    this only turns that into seconds.
    """

    output_field = FloatField()
    arity = 2

    def __init__(self, end, start):
        super().__init__(end, start)

    def _difference(self, compiler, connection):
        end, start = self.get_source_expressions()
        return compiler.compile(TemporalSubtraction(end, start))

    def as_sql(self, compiler, connection, **extra):  # SQLite: django_timestamp_diff's microseconds
        sql, params = self._difference(compiler, connection)
        return f"({sql} / 1000000.0)", params

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = self._difference(compiler, connection)
        return f"EXTRACT(EPOCH FROM {sql})::double precision", params


def _key(group_by: str | None, tz: ZoneInfo):
    """(key, sort) expressions of a row's group."""
    if group_by == "severity":
        return F("severity__name"), F("severity__rank")
    if group_by == "team":
        return F("team__slug"), F("team__slug")
    if group_by == "service":
        return F("services__slug"), F("services__slug")
    if group_by == "category":
        return F("category"), F("category")
    if group_by == "month":
        month = TruncMonth("created_at", tzinfo=tz)
        return month, month
    return Value("all"), Value(0)


def _compliance(done: str, target: str, now: datetime):
    """1 if ``done`` happened within ``target`` of creation; 0 if later, or not yet once the target passed;
    NULL while it may still be met."""
    due = F("created_at") + F(target)
    return Case(
        When(**{f"{done}__isnull": False, f"{done}__lte": due}, then=Value(1)),
        When(**{f"{done}__isnull": False}, then=Value(0)),
        When(Q(created_at__lte=Value(now) - F(target)), then=Value(0)),
        default=None, output_field=IntegerField(),
    )


def _flag(condition) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _count_items(**filters) -> Func:
    """How many action items of the row's incident match ``filters`` (a correlated subquery)."""
    items = (ActionItem.objects.filter(incident=OuterRef("pk"), **filters).order_by().values("incident")
             .annotate(n=Func(F("pk"), function="COUNT")).values("n"))
    return Coalesce(items, Value(0), output_field=IntegerField())


def _repeats(scope: Scope, user) -> QuerySet:
    """Ids of incidents (of ``scope``'s period and the 30 days before it) with an earlier incident of the
    same category on one of the same services created in the 30 days before (one the caller may see; it
    may be before the period).

    One pass over the services' incidents with LAG, not a lookup per incident: evaluated once, as a subquery
    (Django filters on the window in a query around it, so the earlier incidents are in the window's view).
    The caller keeps only the ids of incidents in scope.
    """
    links = Incident.services.through.objects.filter(
        incident__in=Incident.objects.visible_to(user),
        incident__created_at__gte=scope.since - REPEAT_WINDOW, incident__created_at__lt=scope.until,
    )
    return links.annotate(previous=Window(
        Lag("incident__created_at"), partition_by=[F("service_id"), F("incident__category")],
        order_by=[F("incident__created_at").asc(), F("incident_id").asc()],
    )).filter(previous__gte=F("incident__created_at") - Value(REPEAT_WINDOW)).values("incident_id")


def _rows(scope: Scope, user, group_by: str | None, now: datetime) -> QuerySet:
    key, sort = _key(group_by, scope.tz)
    # Paged past the first step: a page of an escalation run at a later step, or in a repeat of the list.
    escalated = Notification.objects.filter(incident=OuterRef("pk"), kind=Notification.Kind.PAGE,
                                            run__isnull=False).filter(Q(step__gte=1) | Q(loop__gte=1))
    due = F("postmortem__due_at")
    started = Coalesce("started_at", "created_at")
    if group_by == "service":
        # MTBF: from the previous incident of the same service (in scope) being resolved to this one starting;
        # overlapping incidents count as no time between failures.
        previous_resolved = Window(Lag("resolved_at"), partition_by=[F("services__id")],
                                   order_by=[started.asc(), F("id").asc()])
        gap = Seconds(started, previous_resolved)
        gap = Case(When(LessThan(gap, Value(0.0)), then=Value(0.0)), default=gap, output_field=FloatField())
    else:
        gap = Cast(Value(None), FloatField())  # a typed NULL: PostgreSQL has no AVG of an untyped one
    return incidents_in(scope, user).order_by().annotate(
        r_key=key, r_sort=sort,
        ack_s=Seconds("acknowledged_at", "created_at"),
        res_s=Seconds("resolved_at", "created_at"),
        det_s=Seconds("created_at", "started_at"),
        mit_s=Seconds("mitigated_at", "created_at"),
        idf_s=Seconds("identified_at", "acknowledged_at"),
        gap_s=gap,
        unacked=_flag(Q(acknowledged_at__isnull=True)),
        unresolved=_flag(Q(resolved_at__isnull=True)),
        ack_ok=_compliance("acknowledged_at", "severity__acknowledge_target", now),
        res_ok=_compliance("resolved_at", "severity__resolve_target", now),
        esc=_flag(Exists(escalated)),
        rep=_flag(Q(pk__in=_repeats(scope, user))),
        pm_due=_flag(Q(postmortem__due_at__isnull=False)),
        pm_ok=Case(
            When(Q(postmortem__due_at__isnull=True), then=None),
            When(Q(postmortem__published_at__isnull=False, postmortem__published_at__lte=due), then=Value(1)),
            When(Q(postmortem__published_at__isnull=False) | Q(postmortem__due_at__lt=Value(now)), then=Value(0)),
            default=None, output_field=IntegerField(),
        ),
        ai_open=_count_items(status__in=ACTIVE_STATUSES),
        ai_done=_count_items(status=ActionItemStatus.DONE),
        ai_total=_count_items(status__in=[*ACTIVE_STATUSES, ActionItemStatus.DONE]),
    ).values("r_key", "r_sort", *(column for _, column in DURATIONS), "unacked", "unresolved", "ack_ok", "res_ok",
             "esc", "rep", "pm_due", "pm_ok", "ai_open", "ai_done", "ai_total")


# --- Levels 2 and 3: ranks, then the aggregates per group ----------------------------------------------------------

def _percentile(vendor: str, column: str, fraction: float) -> str:
    """SQL for the ``fraction`` percentile of ``column`` within the group, interpolated linearly.

    PostgreSQL has it. Elsewhere it is computed from the value's rank ``rn`` (1 to ``n``, the count of
    values): the weighted sum of the values at ranks ⌊h⌋ and ⌈h⌉, h = 1 + fraction·(n − 1), which is
    percentile_cont's own definition.
    """
    if vendor == "postgresql":
        return f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY {column})"
    h = f"(1.0 + {fraction} * (n_{column} - 1))"
    return f"SUM({column} * MAX(0.0, 1.0 - ABS(rn_{column} - {h})))"


_SUMS = ["unacked", "unresolved", "esc", "rep", "pm_due", "ai_open", "ai_done", "ai_total"]
_RATES = ["ack_ok", "res_ok", "pm_ok"]  # 1, 0 or NULL: SUM is the met, COUNT the decided


def _aggregate_sql(rows: QuerySet, grouped: bool) -> tuple[str, list, list[str]]:
    connection = connections[rows.db]
    vendor = connection.vendor
    inner, params = rows.query.get_compiler(using=rows.db).as_sql()
    ranks = ", ".join(
        f"ROW_NUMBER() OVER (PARTITION BY r_key ORDER BY {column} NULLS LAST) AS rn_{column}, "
        f"COUNT({column}) OVER (PARTITION BY r_key) AS n_{column}"
        for _, column in DURATIONS
    )
    figures = {"r_key": "MIN(r_key)", "r_sort": "MIN(r_sort)", "incidents": "COUNT(*)"}
    for _, column in DURATIONS:
        figures.update({
            f"{column}_mean": f"AVG({column})", f"{column}_p50": _percentile(vendor, column, 0.5),
            f"{column}_p90": _percentile(vendor, column, 0.9), f"{column}_count": f"COUNT({column})",
        })
    figures.update({name: f"SUM({name})" for name in [*_SUMS, *_RATES]})
    figures.update({f"{name}_n": f"COUNT({name})" for name in _RATES})
    select = ", ".join(f"{sql} AS {name}" for name, sql in figures.items())
    # Without a group, one row even of no incidents (COUNT 0): what a headline tile shows.
    sql = (f"SELECT {select} FROM (SELECT r.*, {ranks} FROM ({inner}) r) ranked "  # noqa: S608 - our columns
           + ("GROUP BY r_key" if grouped else ""))
    return sql, list(params), list(figures)


def _number(value):
    """An integer from the database's SUM (PostgreSQL answers a Decimal), 0 for none."""
    return int(value) if value is not None else 0


def _seconds(value):
    return None if value is None else round(float(value), 3)


def _pct(met, decided):
    return None if not decided else round(100.0 * float(met) / float(decided), 1)


def _row(figures: dict, group_by: str | None) -> dict:
    key = figures["r_key"] if group_by is not None else "all"
    if group_by == "month" and key is not None:
        key = str(key)[:7]  # a datetime (PostgreSQL) or its text (SQLite): "2026-03"
    row = {"key": key, "incidents": _number(figures["incidents"])}
    for prefix, column in DURATIONS:
        mean = _seconds(figures[f"{column}_mean"])
        row[f"{prefix}_seconds"] = mean
        row[f"{prefix}_p50_seconds"] = _seconds(figures[f"{column}_p50"])
        row[f"{prefix}_p90_seconds"] = _seconds(figures[f"{column}_p90"])
        row[f"{prefix}_count"] = _number(figures[f"{column}_count"])
    if group_by != "service" or key is None:
        row.update(mtbf_seconds=None, mtbf_p50_seconds=None, mtbf_p90_seconds=None, mtbf_count=0)
    ack_met, ack_n = _number(figures["ack_ok"]), _number(figures["ack_ok_n"])
    res_met, res_n = _number(figures["res_ok"]), _number(figures["res_ok_n"])
    pm_met, pm_n = _number(figures["pm_ok"]), _number(figures["pm_ok_n"])
    done, total = _number(figures["ai_done"]), _number(figures["ai_total"])
    row.update(
        never_acknowledged=_number(figures["unacked"]),
        never_resolved=_number(figures["unresolved"]),
        ack_sla_met_pct=_pct(ack_met, ack_n), ack_sla_breached=ack_n - ack_met,
        resolve_sla_met_pct=_pct(res_met, res_n), resolve_sla_breached=res_n - res_met,
        escalated=_number(figures["esc"]), escalated_pct=_pct(_number(figures["esc"]), row["incidents"]),
        repeat_incidents=_number(figures["rep"]),
        postmortems_due=_number(figures["pm_due"]), postmortems_on_time_pct=_pct(pm_met, pm_n),
        postmortems_published_on_time=pm_met, postmortems_late=pm_n - pm_met,
        action_items_open=_number(figures["ai_open"]), action_items_done=done, action_items_total=total,
        action_items_done_pct=_pct(done, total),
    )
    return {name: row[name] for name in ROW_FIELDS}


def metrics(*, user, scope: Scope, group_by: str | None = None, now: datetime | None = None) -> list[dict]:
    """One row per group of the incidents ``user`` may see in ``scope``, in one query.

    Rows come ordered: severities by rank, months by date, the rest by key; a group
    without a key (incidents of no service) last. Fields: ``ROW_FIELDS``.
    """
    if group_by is not None and group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    now = now or timezone.now()
    rows = _rows(scope, user, group_by, now)
    sql, params, names = _aggregate_sql(rows, grouped=group_by is not None)
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        found = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    found.sort(key=lambda f: (f["r_key"] is None, str(f["r_sort"]) if group_by != "severity" else f["r_sort"] or 0))
    return [_row(figures, group_by) for figures in found]


# --- The incidents behind a row ---------------------------------------------------------------------------------------

def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _next_month(start: datetime) -> datetime:
    days = monthrange(start.year, start.month)[1]
    following = (start.replace(tzinfo=None) + timedelta(days=days)).replace(day=1)
    return following.replace(tzinfo=start.tzinfo)


def incidents_query(scope: Scope, group_by: str | None, key) -> dict[str, str] | None:
    """The incident list API's query (``GET /api/v1/incidents/?…``) for the incidents behind a row.

    None for the row of incidents without a service: the list cannot ask for those.
    """
    since, until = scope.since, scope.until
    query = {}
    if scope.team is not None:
        query["team"] = scope.team.slug
    if scope.service is not None:
        query["service"] = scope.service.slug
    if scope.severity is not None:
        query["severity"] = scope.severity.name
    if scope.category:
        query["category"] = scope.category
    if scope.exclude_categories:
        query["exclude_category"] = ",".join(scope.exclude_categories)
    if group_by == "month":
        start = datetime.strptime(key, "%Y-%m").replace(tzinfo=scope.tz)
        since, until = max(since, start), min(until, _next_month(start))
    elif group_by is not None:
        if key is None:
            return None
        query[group_by] = key
    return {"created_after": _instant(since), "created_before": _instant(until), **query}
