"""The two statements that carry almost every alert event on PostgreSQL.

A trigger either joins the open incident of its key (most events) or opens
one (a new key). Each is ONE statement of data-modifying CTEs, atomic by
itself, prepared once per connection (``prepared_cursor``): the ORM path of
``services.alerts`` does the same work in up to a dozen round trips, and on a
small machine round trips, not rows, are what an event costs. Anything
unusual (SQLite, a maintenance window, an Alertmanager upsert, a key whose
open incident a person resolved, a lost race) returns None here and takes
that ORM path, which stays the reference for what an event does.

Both write exactly the rows the ORM path writes. The incident columns and its
creation history row are generated from the models' metadata, so a new field
is written here too (``test_ingest_fast_path`` compares both paths' rows).
"""

from contextlib import nullcontext
from datetime import datetime
from functools import cache

from django.db import connection, transaction

from incidents import signals
from incidents.models import Incident, MaintenanceWindow, Service, Severity
from incidents.models.incident import OPEN_STATUSES, Source
from incidents.services.incident import count_sql, number_sql

from ..models import DEFAULT_SEVERITY_MAP, Alert, AlertGroup, AlertStatus, Integration
from ..queries import prepared_cursor

# --- the alert row, shared by both statements ----------------------------------

# The columns of the alert, in order ("group" is a reserved word).
_ALERT_COLUMNS = (
    'integration_id, incident_id, dedup_key, status, summary, source, severity, component, "group", alert_class, '
    "details, labels, annotations, links, images, runbook_url, generator_url, started_at, received_at, last_seen_at"
)
# Casts: with server-side binding a parameter in a select list has no type of its own.
_ALERT_VALUES = (
    "%(integration)s::bigint, inc.id, %(dedup_key)s::text, %(status)s::text, %(summary)s::text, "
    "%(source)s::text, %(severity)s::text, %(component)s::text, %(group)s::text, %(alert_class)s::text, "
    "%(details)s::jsonb, %(labels)s::jsonb, %(annotations)s::jsonb, %(links)s::jsonb, %(images)s::jsonb, "
    "%(runbook_url)s::text, %(generator_url)s::text, %(started_at)s::timestamptz, %(now)s::timestamptz, "
    "%(now)s::timestamptz"
)
_EMPTY_JSON = {dict: "{}", list: "[]"}


def _json(value):
    """A JSON parameter. Most events carry empty labels, links and images: a constant costs nothing."""
    empty = _EMPTY_JSON.get(type(value)) if not value else None
    return empty if empty is not None else connection.ops.adapt_json_value(value, None)


def alert_fields(event) -> dict:
    """The alert fields an event sets, cut to their columns' lengths: for both ways of storing an alert."""
    return {
        "dedup_key": event.dedup_key, "summary": (event.summary or event.dedup_key)[:1024],
        "source": event.source[:255], "severity": event.severity, "component": event.component[:255],
        "group": event.group[:255], "alert_class": event.alert_class[:255], "details": event.details,
        "labels": event.labels, "annotations": event.annotations, "links": event.links, "images": event.images,
        "runbook_url": event.runbook_url[:2000], "generator_url": event.generator_url[:2000],
        "started_at": event.started_at,
    }


def incident_fields(integration: Integration, event, now: datetime) -> dict:
    """Title, description and start of the incident an event opens: for both ways of opening one."""
    return {
        "title": (event.summary or event.dedup_key)[:255],
        "description": f"Opened by the {integration.get_kind_display()} integration “{integration.name}”.",
        "started_at": event.started_at if event.started_at and event.started_at <= now else None,
    }


_JSON_FIELDS = ("details", "labels", "annotations", "links", "images")


def _alert_params(integration_id: int, event, now: datetime) -> dict:
    at = connection.ops.adapt_datetimefield_value
    params = alert_fields(event)
    for name in _JSON_FIELDS:
        params[name] = _json(params[name])
    if params["started_at"] is not None:
        params["started_at"] = at(params["started_at"])
    params.update(now=at(now), integration=integration_id, group_key=event.group_key,
                  status=AlertStatus.FIRING.value)
    return params


_OPEN_SQL = ", ".join(f"'{status}'" for status in OPEN_STATUSES)  # our own constants: no quoting needed

# --- joining the open incident of a key ------------------------------------------

def _join_sql(group: str) -> str:
    return (
        # Bump the count of the open incident of the key (taking its row lock) ...
        f"WITH inc AS (UPDATE {Incident._meta.db_table} "  # noqa: S608 - our names, values are parameters
        f"SET alert_count = alert_count + 1, last_alert_at = %(now)s, updated_at = %(now)s WHERE id = ({group}) "
        f"AND status IN ({_OPEN_SQL}) RETURNING id, number, status, alert_count), "
        # ... and store the alert on it, only if that row was updated.
        f"ins AS (INSERT INTO {Alert._meta.db_table} ({_ALERT_COLUMNS}) SELECT {_ALERT_VALUES} FROM inc RETURNING id) "
        "SELECT inc.id, inc.number, inc.status, inc.alert_count FROM inc, ins"
    )


# The incident of the key's open group.
_JOIN_SQL = _join_sql(
    f"SELECT incident_id FROM {AlertGroup._meta.db_table} "  # noqa: S608 - our names
    "WHERE integration_id = %(integration)s AND dedup_key = %(group_key)s AND closed_at IS NULL"
)
# The same, for an event admitted by a leased token (ratelimit.spend_lease): only
# if the key is still the integration's, it is enabled and of the endpoint's kind,
# and its service is not in a maintenance window, as ratelimit.admit would check.
_ADMITTED_JOIN_SQL = _join_sql(
    f"SELECT g.incident_id FROM {AlertGroup._meta.db_table} g "  # noqa: S608 - our names
    f"JOIN {Integration._meta.db_table} i ON i.id = g.integration_id "
    "WHERE g.integration_id = %(integration)s AND g.dedup_key = %(group_key)s AND g.closed_at IS NULL "
    "AND i.key_hash = %(digest)s AND i.enabled AND i.kind = %(kind)s AND NOT EXISTS ("
    f"SELECT 1 FROM {MaintenanceWindow._meta.db_table} w "
    "WHERE w.service_id = i.service_id AND w.starts_at <= %(now)s AND w.ends_at > %(now)s)"
)


def join_open_incident(integration: Integration, event, now: datetime) -> Incident | None:
    """Add the event's alert to the open incident of its key and count it; None if there is none.

    A data-modifying CTE bumps the incident's alert count and inserts the
    alert. One statement is atomic by itself, so in autocommit there is no
    BEGIN/COMMIT round trip (inside an outer transaction it simply joins it).

    Races: the UPDATE takes the incident row lock and PostgreSQL re-checks
    ``status`` on the latest row version once it has it, so if a resolve
    (ingestion's, or a person's through ``resolve_incident``, both lock the
    incident) commits first we update nothing, insert nothing and return None;
    the caller then takes the full path, which closes the group and opens a
    new incident. The group row is read, not locked: this statement waits for
    no lock while holding one (the alert's FK check takes only KEY SHARE on
    the integration), so it cannot deadlock with the group-then-incident order
    of the full path. Counts stay exact: the increment runs under the lock.
    The denormalised fields are excluded from Incident's history, and alert
    rows have no history or signals, so the raw SQL bypasses nothing.
    Nothing is queued: joining pages no one.
    """
    return _join(_JOIN_SQL, _alert_params(integration.pk, event, now), now)


def join_admitted(integration_id: int, digest: str, kind: str, event, now: datetime) -> Incident | None:
    """``join_open_incident`` for an event whose token came from a lease, checking in the same statement what
    ``ratelimit.admit`` would have checked; None if anything is amiss (or there is no open incident)."""
    params = _alert_params(integration_id, event, now)
    params.update(digest=digest, kind=kind)
    return _join(_ADMITTED_JOIN_SQL, params, now)


def _join(sql: str, params: dict, now: datetime) -> Incident | None:
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    incident = Incident.from_db(connection.alias, ["id", "number", "status", "alert_count"], row)
    incident.last_alert_at = now
    return incident


# --- opening an incident for a new key -------------------------------------------

def severity_choice_sql(columns: str, *, wanted: str, fallback: str) -> str:
    """SELECT ``columns`` of the severity named ``wanted``, else ``fallback``, else the highest (SQL expressions)."""
    return (f"SELECT {columns} FROM {Severity._meta.db_table} "  # noqa: S608 - our table and expressions
            f"ORDER BY CASE WHEN name = {wanted} THEN 0 WHEN name = {fallback} THEN 1 ELSE 2 END, rank LIMIT 1")


def _param(field) -> str:
    return f"%(f_{field.attname})s::{field.db_type(connection)}"


@cache
def _open_sql() -> tuple[str, tuple]:
    """The statement that opens an incident for a new key, and the incident fields it takes as parameters.

    Built once from the models' metadata: every concrete column of the
    incident and of its historical model is written, as ``Model.save`` and
    simple-history would.
    """
    incident_table, history_model = Incident._meta.db_table, Incident.history.model
    mapped = (f"COALESCE((SELECT severity_map ->> %(payload_severity)s FROM {Integration._meta.db_table} "  # noqa: S608
              "WHERE id = %(integration)s), %(fallback)s)")  # the integration's map, else the default one
    computed = {  # the columns the statement computes; every other one is a parameter
        "id": "claim.incident_id",
        "number": number_sql("%(year)s", "seq.last"),
        "sequence": "seq.last",
        "severity_id": f"({severity_choice_sql('id', wanted=mapped, fallback='%(fallback)s')})",
        "team_id": f"(SELECT team_id FROM {Service._meta.db_table} WHERE id = %(service)s)",  # noqa: S608
        "alert_count": "1",
        "last_alert_at": "%(now)s::timestamptz",
        "updated_at": "%(now)s::timestamptz",
    }
    fields = Incident._meta.concrete_fields
    params = tuple(f for f in fields if f.column not in computed)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = ", ".join(computed.get(f.column) or _param(f) for f in fields)
    history = {  # the history model's own columns; the rest copy the incident's
        "history_date": "%(now)s::timestamptz", "history_change_reason": "%(reason)s::text",
        "history_type": "'+'", "history_user_id": "NULL",
    }
    history_fields = [f for f in history_model._meta.concrete_fields if f.column != "history_id"]
    history_columns = ", ".join(connection.ops.quote_name(f.column) for f in history_fields)
    history_values = ", ".join(history.get(f.column) or f"inc.{connection.ops.quote_name(f.column)}"
                               for f in history_fields)
    links = Incident.services.through
    sql = (
        # Claim the key: insert its open group, naming the incident id to come. A
        # second claimer waits for the first to commit and then inserts nothing, so
        # nothing below happens for it (the incident FK is checked at commit).
        f"WITH claim AS (INSERT INTO {AlertGroup._meta.db_table} "  # noqa: S608 - our names; values are parameters
        "(integration_id, dedup_key, incident_id, created_at, closed_at) "
        f"SELECT %(integration)s::bigint, %(group_key)s::text, nextval(pg_get_serial_sequence('{incident_table}', "
        "'id')), %(now)s::timestamptz, NULL ON CONFLICT DO NOTHING RETURNING incident_id), "
        # The year's counter: the row lock that numbers incidents gap-free, held to the commit.
        f"seq AS ({count_sql('SELECT %(year)s::integer, 1 FROM claim')}), "
        f"inc AS (INSERT INTO {incident_table} ({columns}) SELECT {values} FROM claim, seq RETURNING *), "
        f"hist AS (INSERT INTO {history_model._meta.db_table} ({history_columns}) SELECT {history_values} FROM inc), "
        f"svc AS (INSERT INTO {links._meta.db_table} (incident_id, service_id) SELECT inc.id, %(service)s FROM inc), "
        f"ins AS (INSERT INTO {Alert._meta.db_table} ({_ALERT_COLUMNS}) SELECT {_ALERT_VALUES} FROM inc RETURNING id) "
        f"SELECT {', '.join(f'inc.{connection.ops.quote_name(f.column)}' for f in fields)} FROM inc, ins"
    )
    return sql, params


def open_incident(integration: Integration, event, now: datetime) -> Incident | None:
    """Open an incident for the event's new key, with its group, history, service and first alert.

    Written as ``_create_incident`` + ``_announce`` + ``_new_alert`` would:
    the same title, description, severity (the integration's map, else the
    default map, else the highest), team, service, source, history row and
    gap-free number, and ``incident_created`` is sent. Returns None if the
    key is taken (an open group, committed by a concurrent trigger or left
    by an incident a person resolved): the caller takes the full path.

    One statement in autocommit when nothing listens to ``incident_created``;
    inside a transaction with the signal when something does, so a
    receiver's writes commit with the incident, as the signal promises.
    """
    sql, fields = _open_sql()
    incident = Incident(year=now.year, source=Source.ALERT, created_at=now, **incident_fields(integration, event, now))
    params = _alert_params(integration.pk, event, now)
    params.update({f"f_{f.attname}": f.get_db_prep_save(getattr(incident, f.attname), connection) for f in fields})
    fallback = DEFAULT_SEVERITY_MAP.get(event.severity, "SEV1")
    params.update({"year": now.year, "service": integration.service_id, "payload_severity": event.severity,
                   "fallback": fallback, "reason": f"Declared via {Source.ALERT.label.lower()}"})
    listened = signals.incident_created.has_listeners(Incident)
    with transaction.atomic() if listened else nullcontext():
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        incident = Incident.from_db(connection.alias, [f.attname for f in Incident._meta.concrete_fields], row)
        signals.incident_created.send(sender=Incident, incident=incident, by=None, transition="create")
    return incident

