"""``manage.py generate_incidents``: synthetic incidents in bulk for the metrics benchmark."""

from datetime import UTC, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from incidents.models import Incident
from reporting.metrics import Scope, metrics


def generate(*args) -> str:
    out = StringIO()
    call_command("generate_incidents", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_generates_numbered_incidents_in_batches_that_the_metrics_read(checkout, sam):
    assert "Generated 250 incidents (GEN-000000001…)" in generate(
        "250", "--since", "2025-01-01", "--until", "2025-04-01", "--batch", "100")
    generated = Incident.objects.filter(number__startswith="GEN-")
    assert generated.count() == 250
    assert generated.filter(services=checkout).count() == 250
    assert not generated.filter(created_at__lt=datetime(2025, 1, 1, tzinfo=UTC)).exists()
    assert not generated.filter(created_at__gte=datetime(2025, 4, 1, tzinfo=UTC)).exists()
    rows = metrics(user=sam, scope=Scope(since=datetime(2025, 1, 1, tzinfo=UTC), until=datetime(2025, 4, 1, tzinfo=UTC),
                                         tz=ZoneInfo("UTC")), group_by="month")
    assert [r["key"] for r in rows] == ["2025-01", "2025-02", "2025-03"]
    assert sum(r["incidents"] for r in rows) == 250
    assert all(r["mtta_count"] + r["never_acknowledged"] == r["incidents"] for r in rows)
    # A second run continues the numbering.
    generate("10", "--since", "2025-01-01", "--until", "2025-04-01")
    assert Incident.objects.filter(number="GEN-000000260").exists()


@pytest.mark.django_db
def test_the_same_seed_draws_the_same_incidents(checkout):
    generate("30", "--seed", "7")
    first = list(Incident.objects.order_by("number").values_list("severity", "category", "acknowledged_at"))
    Incident.objects.filter(number__startswith="GEN-").delete()
    generate("30", "--seed", "7")
    again = list(Incident.objects.order_by("number").values_list("severity", "category", "acknowledged_at"))
    assert first == again


@pytest.mark.django_db
def test_refuses_without_a_service_or_with_a_bad_period(payments):
    with pytest.raises(CommandError, match="No service"):
        generate("10")
    with pytest.raises(CommandError, match="before"):
        generate("10", "--since", "2026-01-01", "--until", "2025-01-01")
