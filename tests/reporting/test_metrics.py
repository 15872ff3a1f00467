"""Incident metrics on a small fixed data set, every figure computed by hand (reporting.metrics, its API and CSV).

The incidents (payments team; SEV1 targets: acknowledge 5 min, resolve 1 h; SEV2: 15 min, 4 h;
SEV3: 1 h, 24 h; SEV4: 4 h, 72 h). The period is February to April 2026 in Berlin:
2026-01-31T23:00Z (1 Feb 00:00 CET) up to 2026-04-30T22:00Z (1 May 00:00 CEST).

| | sev | category | service | created (UTC) | ack | identified | mitigated | resolved | started |
|---|---|---|---|---|---|---|---|---|---|
| H | SEV3 | outage | checkout | 01-20 10:00 (before the period) | — | — | — | 11:00 | — |
| A | SEV1 | outage | checkout | 02-10 10:00 | +240 s | +1200 s | +2400 s | +3000 s | 09:50 |
| B | SEV2 | outage | checkout | 02-28 23:30 (1 Mar 00:30 in Berlin) | +1200 s | +2400 s | — | +12600 s | — |
| C | SEV2 | degradation | checkout | 03-29 00:30 (the night clocks go forward) | +3600 s | — | — | 02:00, reopened 03:00, resolved 06:00 (+19800 s) | — |
| D | SEV3 | other | ledger | 03-30 10:00 | never | — | — | +7200 s | 09:00 |
| E | SEV3 | integration | ledger | 04-30 21:30 (23:30 in Berlin) | never | — | — | never | — |
| F | SEV4 | other | none | 04-15 08:00 | +1800 s | — | — | +3600 s | — |
| G | SEV1 | outage | search's team | 03-05 12:00 (only staff see it) | never | — | — | never | — |

B was paged past its policy's first step. Postmortems (made on resolving SEV1/SEV2): A's published on time,
B's late, C's never (past due). Action items: A done + open, B won't do, C in progress.
"""

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from incidents.models import Severity
from incidents.services import create_incident, resolve_incident, transition_incident
from oncall.models import EscalationPolicy
from paging.models import EscalationRun, Notification
from paging.services.escalation import advance_escalation
from postmortems.models import Postmortem
from postmortems.services.action_item import create_action_item, set_action_item_status
from postmortems.services.postmortem import transition_postmortem
from reporting.metrics import API_FIELDS, ROW_FIELDS, Scope, incidents_query, metrics
from tests.factories import ServiceFactory

BERLIN = ZoneInfo("Europe/Berlin")
SINCE, UNTIL = datetime(2026, 1, 31, 23, tzinfo=UTC), datetime(2026, 4, 30, 22, tzinfo=UTC)
LATER = datetime(2026, 6, 1, tzinfo=UTC)  # every target has passed


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def declare(team, by, sev, created, category="other", services=(), started=None):
    return create_incident(title=f"{sev} {category}", severity=Severity.objects.get(name=sev), team=team, by=by,
                           services=list(services), category=category, started_at=started, now=created)


def move(incident, by, *steps):
    for transition, when in steps:
        if transition == "resolve":
            incident = resolve_incident(incident=incident, by=by, now=when)
        else:
            incident = transition_incident(incident=incident, transition=transition, by=by, now=when)
    return incident


@pytest.fixture
def world(payments, search_team, alice, bob, charlie, checkout):
    ledger = ServiceFactory(slug="ledger", name="Ledger", team=payments)
    EscalationPolicy.objects.create(team=payments, name="Payments", is_default=True, repeat=0, steps=[
        {"delay_minutes": 10, "targets": [{"type": "user", "id": bob.pk}]},
        {"delay_minutes": 10, "targets": [{"type": "user", "id": alice.pk}]},
    ])
    s = timedelta(seconds=1)

    h = declare(payments, alice, "SEV3", at("2026-01-20 10:00"), "outage", [checkout])
    move(h, alice, ("resolve", at("2026-01-20 11:00")))

    t = at("2026-02-10 10:00")
    a = declare(payments, alice, "SEV1", t, "outage", [checkout], started=at("2026-02-10 09:50"))
    a = move(a, alice, ("acknowledge", t + 240 * s), ("identify", t + 1200 * s), ("mitigate", t + 2400 * s),
             ("resolve", t + 3000 * s))
    postmortem = Postmortem.objects.get(incident=a)  # due 48 h after resolution: 2026-02-12 10:50
    transition_postmortem(postmortem=postmortem, transition="submit", by=alice, now=at("2026-02-11 09:00"))
    transition_postmortem(postmortem=postmortem, transition="approve", by=bob, now=at("2026-02-11 10:00"))
    transition_postmortem(postmortem=postmortem, transition="publish", by=alice, now=at("2026-02-11 11:00"))
    done = create_action_item(incident=a, by=alice, title="Alert on the error rate", now=at("2026-02-11 12:00"))
    set_action_item_status(item=done, status="done", by=alice, now=at("2026-02-20 12:00"))
    create_action_item(incident=a, by=alice, title="Load-test checkout", now=at("2026-02-11 12:00"))

    t = at("2026-02-28 23:30")
    b = declare(payments, alice, "SEV2", t, "outage", [checkout])
    run = EscalationRun.objects.get(incident=b)
    advance_escalation(run.pk, now=t)  # step 1: bob
    advance_escalation(run.pk, now=t + timedelta(minutes=10))  # step 2: alice
    b = move(b, alice, ("acknowledge", t + 1200 * s), ("identify", t + 2400 * s), ("resolve", t + 12600 * s))
    postmortem = Postmortem.objects.get(incident=b)  # due 7 days after: 2026-03-08 03:00
    transition_postmortem(postmortem=postmortem, transition="submit", by=alice, now=at("2026-03-09 09:00"))
    transition_postmortem(postmortem=postmortem, transition="approve", by=bob, now=at("2026-03-09 10:00"))
    transition_postmortem(postmortem=postmortem, transition="publish", by=alice, now=at("2026-03-10 09:00"))
    dropped = create_action_item(incident=b, by=alice, title="Rewrite checkout", now=at("2026-03-10 10:00"))
    set_action_item_status(item=dropped, status="wont_do", by=alice, reason="Too big", now=at("2026-03-11 10:00"))

    t = at("2026-03-29 00:30")  # Berlin's clocks go from 02:00 CET to 03:00 CEST at 01:00 UTC
    c = declare(payments, alice, "SEV2", t, "degradation", [checkout])
    c = move(c, alice, ("acknowledge", t + 3600 * s), ("resolve", at("2026-03-29 02:00")),
             ("reopen", at("2026-03-29 03:00")), ("resolve", at("2026-03-29 06:00")))
    started = create_action_item(incident=c, by=alice, title="Cache warm-up", now=at("2026-03-30 09:00"))
    set_action_item_status(item=started, status="in_progress", by=alice, now=at("2026-03-30 10:00"))

    d = declare(payments, alice, "SEV3", at("2026-03-30 10:00"), "other", [ledger], started=at("2026-03-30 09:00"))
    move(d, alice, ("resolve", at("2026-03-30 12:00")))
    declare(payments, alice, "SEV3", at("2026-04-30 21:30"), "integration", [ledger])
    f = declare(payments, alice, "SEV4", at("2026-04-15 08:00"), "other")
    move(f, alice, ("acknowledge", at("2026-04-15 08:30")), ("resolve", at("2026-04-15 09:00")))
    declare(search_team, charlie, "SEV1", at("2026-03-05 12:00"), "outage")
    return {"ledger": ledger}


def scope(**filters) -> Scope:
    return Scope(since=SINCE, until=UNTIL, tz=filters.pop("tz", BERLIN), **filters)


def by_key(rows) -> dict:
    return {row["key"]: row for row in rows}


# --- The module, every figure by hand ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_every_figure_of_the_whole_period(world, alice):
    [row] = metrics(user=alice, scope=scope(), now=LATER)
    assert row == {
        "key": "all", "incidents": 6,
        # A 240, B 1200, F 1800, C 3600 (an hour in UTC, though Berlin's clocks moved two); D and E never.
        "mtta_seconds": 1710.0, "mtta_p50_seconds": 1500.0, "mtta_p90_seconds": 3060.0, "mtta_count": 4,
        "never_acknowledged": 2,
        # A 3000, F 3600, D 7200, B 12600, C 19800 (its last resolution, after the reopen); E never.
        "mttr_seconds": 9240.0, "mttr_p50_seconds": 7200.0, "mttr_p90_seconds": 16920.0, "mttr_count": 5,
        "never_resolved": 1,
        "mttd_seconds": 2100.0, "mttd_p50_seconds": 2100.0, "mttd_p90_seconds": 3300.0, "mttd_count": 2,  # A, D
        "mttm_seconds": 2400.0, "mttm_p50_seconds": 2400.0, "mttm_p90_seconds": 2400.0, "mttm_count": 1,  # A
        "mtti_seconds": 1080.0, "mtti_p50_seconds": 1080.0, "mtti_p90_seconds": 1176.0, "mtti_count": 2,  # A, B
        "mtbf_seconds": None, "mtbf_p50_seconds": None, "mtbf_p90_seconds": None, "mtbf_count": 0,  # by service only
        # Met: A, F. Breached: B, C late; D, E never acknowledged, their hour long past.
        "ack_sla_met_pct": 33.3, "ack_sla_breached": 4,
        # Met: A, B, D, F. Breached: C (5.5 h > 4 h), E (never resolved, 24 h past).
        "resolve_sla_met_pct": 66.7, "resolve_sla_breached": 2,
        "escalated_pct": 16.7, "escalated": 1,  # B
        "repeat_incidents": 2,  # A (H, 21 days before, outside the period), B (A, 18 days before)
        "postmortems_due": 3, "postmortems_on_time_pct": 33.3, "postmortems_published_on_time": 1,
        "postmortems_late": 2,  # B published late, C not published and past due
        "action_items_open": 2, "action_items_done": 1, "action_items_total": 3,  # B's won't-do is left out
        "action_items_done_pct": 33.3,
    }
    assert list(row) == ROW_FIELDS
    assert ROW_FIELDS[:len(API_FIELDS)] == API_FIELDS


@pytest.mark.django_db
def test_a_target_not_yet_passed_is_neither_met_nor_breached(world, alice):
    # At the period's end E is half an hour old: its hour to be acknowledged has not passed.
    [row] = metrics(user=alice, scope=scope(), now=UNTIL)
    assert (row["ack_sla_met_pct"], row["ack_sla_breached"]) == (40.0, 3)
    assert (row["resolve_sla_met_pct"], row["resolve_sla_breached"]) == (80.0, 1)
    assert row["never_acknowledged"] == 2, "never acknowledged is counted all the same"


@pytest.mark.django_db
def test_by_severity_in_rank_order(world, alice):
    rows = metrics(user=alice, scope=scope(), group_by="severity", now=LATER)
    assert [r["key"] for r in rows] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    sev1, sev2, sev3, sev4 = rows
    assert (sev1["incidents"], sev1["mtta_seconds"], sev1["mttr_seconds"], sev1["ack_sla_met_pct"]) == (1, 240, 3000, 100)
    assert (sev2["incidents"], sev2["mtta_seconds"], sev2["mtta_p50_seconds"], sev2["mtta_p90_seconds"]) == (
        2, 2400, 2400, 3360)
    assert (sev2["mttr_seconds"], sev2["mttr_p90_seconds"], sev2["resolve_sla_met_pct"]) == (16200, 19080, 50)
    assert (sev2["escalated_pct"], sev2["repeat_incidents"], sev2["postmortems_due"]) == (50, 1, 2)
    assert (sev2["postmortems_on_time_pct"], sev2["action_items_open"], sev2["action_items_done_pct"]) == (0, 1, 0)
    assert (sev3["incidents"], sev3["mtta_seconds"], sev3["mtta_count"], sev3["never_acknowledged"]) == (2, None, 0, 2)
    assert (sev3["ack_sla_met_pct"], sev3["resolve_sla_met_pct"], sev3["mttd_seconds"]) == (0, 50, 3600)
    assert (sev3["postmortems_due"], sev3["postmortems_on_time_pct"], sev3["action_items_done_pct"]) == (0, None, None)
    assert (sev4["incidents"], sev4["mtta_seconds"], sev4["mttr_seconds"]) == (1, 1800, 3600)


@pytest.mark.django_db
def test_months_are_cut_in_the_zone_asked_for(world, alice):
    rows = by_key(metrics(user=alice, scope=scope(), group_by="month", now=LATER))
    # B, at 00:30 on 1 March in Berlin, is March's; E, at 23:30 on 30 April in Berlin (after the change to
    # summer time), is April's.
    assert {k: r["incidents"] for k, r in rows.items()} == {"2026-02": 1, "2026-03": 3, "2026-04": 2}
    assert list(rows) == ["2026-02", "2026-03", "2026-04"]
    march = rows["2026-03"]  # B, C, D
    assert (march["mtta_seconds"], march["never_acknowledged"], march["mttr_seconds"]) == (2400, 1, 13200)
    in_utc = by_key(metrics(user=alice, scope=scope(tz=ZoneInfo("UTC")), group_by="month", now=LATER))
    assert {k: r["incidents"] for k, r in in_utc.items()} == {"2026-02": 2, "2026-03": 2, "2026-04": 2}


@pytest.mark.django_db
def test_by_service_with_the_time_between_failures(world, alice):
    rows = metrics(user=alice, scope=scope(), group_by="service", now=LATER)
    assert [r["key"] for r in rows] == ["checkout", "ledger", None]
    checkout, ledger, none = rows
    assert checkout["incidents"] == 3 and ledger["incidents"] == 2 and none["incidents"] == 1
    # checkout: A resolved 02-10 10:50 → B 02-28 23:30 (1,600,800 s); B resolved 03-01 03:00 → C 03-29 00:30
    # (2,410,200 s); H is outside the period.
    assert (checkout["mtbf_seconds"], checkout["mtbf_p50_seconds"], checkout["mtbf_p90_seconds"],
            checkout["mtbf_count"]) == (2005500, 2005500, 2329260, 2)
    # ledger: D resolved 03-30 12:00 → E 04-30 21:30.
    assert (ledger["mtbf_seconds"], ledger["mtbf_count"]) == (2712600, 1)
    assert (none["mtbf_seconds"], none["mtbf_count"]) == (None, 0)
    assert checkout["repeat_incidents"] == 2 and ledger["repeat_incidents"] == 0


@pytest.mark.django_db
def test_by_category_and_team(world, alice, sam):
    rows = metrics(user=alice, scope=scope(), group_by="category", now=LATER)
    assert [(r["key"], r["incidents"]) for r in rows] == [
        ("degradation", 1), ("integration", 1), ("other", 2), ("outage", 2)]
    assert [(r["key"], r["incidents"]) for r in metrics(user=alice, scope=scope(), group_by="team")] == [
        ("payments", 6)]
    assert [(r["key"], r["incidents"]) for r in metrics(user=sam, scope=scope(), group_by="team")] == [
        ("payments", 6), ("search", 1)]


@pytest.mark.django_db
def test_categories_can_be_left_out_and_filters_narrow(world, alice, checkout):
    [row] = metrics(user=alice, scope=scope(exclude_categories=("other",)), now=LATER)
    assert (row["incidents"], row["mtta_seconds"], row["never_acknowledged"]) == (4, 1680, 1)  # A, B, C, E
    [row] = metrics(user=alice, scope=scope(service=checkout), now=LATER)
    assert (row["incidents"], row["mttr_seconds"]) == (3, 11800)
    [row] = metrics(user=alice, scope=scope(severity=Severity.objects.get(name="SEV3")), now=LATER)
    assert row["incidents"] == 2
    [row] = metrics(user=alice, scope=scope(category="outage"), now=LATER)
    assert row["incidents"] == 2
    rows = metrics(user=alice, scope=scope(service=checkout), group_by="service", now=LATER)
    assert [r["key"] for r in rows] == ["checkout"]


@pytest.mark.django_db
def test_nobody_counts_incidents_they_may_not_see(world, alice, charlie, sam):
    [row] = metrics(user=charlie, scope=scope(), now=LATER)
    assert (row["incidents"], row["never_acknowledged"]) == (1, 1)  # G only
    [row] = metrics(user=sam, scope=scope(), now=LATER)
    assert row["incidents"] == 7


@pytest.mark.django_db
def test_a_period_without_incidents_answers_an_empty_report(world, alice):
    empty = Scope(since=datetime(2025, 1, 1, tzinfo=UTC), until=datetime(2025, 2, 1, tzinfo=UTC), tz=BERLIN)
    assert metrics(user=alice, scope=empty, group_by="month") == []
    [row] = metrics(user=alice, scope=empty)
    assert row["incidents"] == 0 and row["mtta_seconds"] is None and row["escalated_pct"] is None


def test_each_row_links_the_incident_list_filtered_to_its_incidents():
    berlin = scope(exclude_categories=("other", "integration"))
    assert incidents_query(berlin, "month", "2026-03") == {
        "created_after": "2026-02-28T23:00:00Z", "created_before": "2026-03-31T22:00:00Z",
        "exclude_category": "other,integration"}
    assert incidents_query(berlin, "month", "2026-04")["created_before"] == "2026-04-30T22:00:00Z"  # the period's end
    assert incidents_query(scope(), "severity", "SEV2") == {
        "created_after": "2026-01-31T23:00:00Z", "created_before": "2026-04-30T22:00:00Z", "severity": "SEV2"}
    assert incidents_query(scope(), "service", None) is None


# --- The API and the CSV ----------------------------------------------------------------------------------------------

PERIOD = {"since": "2026-02-01", "until": "2026-05-01", "tz": "Europe/Berlin"}


@pytest.mark.django_db
def test_api_answers_the_modules_figures(world, api, alice):
    answer = api.as_user(alice).get("/api/v1/reports/metrics/", {**PERIOD, "group_by": "severity"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["since"], body["until"], body["tz"], body["group_by"]) == (
        "2026-01-31T23:00:00Z", "2026-04-30T22:00:00Z", "Europe/Berlin", "severity")
    expected = metrics(user=alice, scope=scope(), group_by="severity")
    assert body["count"] == 4
    assert [{k: v for k, v in r.items() if k != "incidents_url"} for r in body["results"]] == expected


@pytest.mark.django_db
@pytest.mark.parametrize("group_by", ["severity", "team", "service", "category", "month"])
def test_each_rows_link_lists_exactly_its_incidents(world, api, alice, group_by):
    client = api.as_user(alice)
    query = {**PERIOD, "group_by": group_by, "exclude_category": "integration"}
    rows = client.get("/api/v1/reports/metrics/", query).json()["results"]
    for row in rows:
        if row["key"] is None:
            assert row["incidents_url"] is None
            continue
        url = urlsplit(row["incidents_url"])
        assert url.path == "/api/v1/incidents/"
        listed = client.get(url.path, {k: v[0] for k, v in parse_qs(url.query).items()})
        assert listed.status_code == 200, listed.content
        assert listed.json()["count"] == row["incidents"], row["key"]


@pytest.mark.django_db
def test_csv_agrees_with_the_json(world, api, alice):
    client = api.as_user(alice)
    query = {**PERIOD, "group_by": "month", "exclude_category": "integration"}
    rows = client.get("/api/v1/reports/metrics/", query).json()["results"]
    answer = client.get("/api/v1/reports/metrics.csv", query)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert 'filename="vigil-metrics-month.csv"' in answer["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert list(lines[0]) == [*ROW_FIELDS, "incidents_url"]
    assert lines == [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
    assert [line["incidents"] for line in lines] == ["1", "3", "1"]


@pytest.mark.django_db
def test_dates_without_an_offset_are_read_in_the_teams_zone(world, api, alice):
    # payments is in Europe/Berlin: "2026-03-01" is midnight there, so B (00:30 in Berlin) is in.
    body = api.as_user(alice).get("/api/v1/reports/metrics/", {
        "team": "payments", "since": "2026-03-01", "until": "2026-04-01"}).json()
    assert body["tz"] == "Europe/Berlin" and body["since"] == "2026-02-28T23:00:00Z"
    assert body["results"][0]["incidents"] == 3  # B, C, D


@pytest.mark.django_db
def test_without_a_period_the_last_30_days(world, api, alice, payments):
    body = api.as_user(alice).get("/api/v1/reports/metrics/").json()
    since, until = (datetime.fromisoformat(body[k]) for k in ("since", "until"))
    assert until - since == timedelta(days=30)
    assert body["results"][0]["incidents"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "name"), [
    ({"since": "yesterday"}, "since"),
    ({"until": "2026-13-01"}, "until"),
    ({"since": "2026-03-01", "until": "2026-02-01"}, "since"),
    ({"group_by": "week"}, "group_by"),
    ({"team": "search"}, "team"),  # another team's: as unknown as a team that does not exist
    ({"service": "nope"}, "service"),
    ({"severity": "SEV9"}, "severity"),
    ({"category": "drill"}, "category"),
    ({"exclude_category": "outage,drill"}, "exclude_category"),
    ({"tz": "Mars/Olympus"}, "tz"),
    ({"since": "9999-01-01"}, "since"),
])
@pytest.mark.parametrize("path", ["/api/v1/reports/metrics/", "/api/v1/reports/metrics.csv"])
def test_a_bad_parameter_is_a_400_naming_it(api, alice, query, name, path):
    answer = api.as_user(alice).get(path, query)
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert body["code"] == "invalid" and name in body and body["detail"].startswith(f"Invalid input: {name}: ")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/reports/metrics/", "/api/v1/reports/metrics.csv"])
def test_anonymous_callers_get_401(api, path):
    assert api.get(path).status_code == 401


@pytest.mark.django_db
def test_a_token_sees_only_its_owners_incidents(world, api, charlie):
    body = api.as_user(charlie).get("/api/v1/reports/metrics/", {**PERIOD, "group_by": "team"}).json()
    assert [(r["key"], r["incidents"]) for r in body["results"]] == [("search", 1)]


@pytest.mark.django_db
@pytest.mark.parametrize("group_by", ["", "severity", "team", "service", "category", "month"])
def test_constant_number_of_queries(world, api, alice, checkout, group_by, django_assert_max_num_queries):
    client = api.as_user(alice)
    query = {**PERIOD, "group_by": group_by, "team": "payments", "service": "checkout", "exclude_category": "other"}
    with django_assert_max_num_queries(6) as few:
        client.get("/api/v1/reports/metrics/", query)
    for n in range(20):
        declare(checkout.team, alice, "SEV2", at("2026-03-10 10:00") + timedelta(hours=n), "outage", [checkout])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/reports/metrics/", query).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/reports/metrics.csv", query).status_code == 200


@pytest.mark.django_db
def test_the_escalation_counted_is_a_page_past_the_first_step(world):
    pages = Notification.objects.filter(kind=Notification.Kind.PAGE, run__isnull=False)
    assert sorted(pages.values_list("step", flat=True)) == [0, 1], "only B's run was advanced, twice"
