"""The library's search document: a stored, GIN-indexed tsvector on PostgreSQL.

Computing the weighted document of every postmortem on every search parses all their text each time (about
2 ms a postmortem: 40 s for 20,000), so PostgreSQL keeps it in a column, indexed. The column exists on SQLite
too (any type name is valid there) and stays empty: SQLite matches the text itself. The index and the
backfill run on PostgreSQL only; a GIN index is not something SQLite can create.
"""

import django.contrib.postgres.search
from django.contrib.postgres.search import SearchVector
from django.db import migrations
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Concat

INDEX = "postmortem_search_document"


def index_and_fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE INDEX {INDEX} ON postmortems_postmortem USING gin (search_document)")
    Postmortem = apps.get_model("postmortems", "Postmortem")
    Incident = apps.get_model("incidents", "Incident")
    # As library.keep_search_document weighs it at the time of this migration.
    label = Subquery(Incident.objects.filter(pk=OuterRef("incident_id")).annotate(
        label=Concat("number", Value(" "), "title")).values("label")[:1])
    Postmortem.objects.using(schema_editor.connection.alias).update(search_document=(
        SearchVector(label, "summary", "root_cause", weight="A", config="english")
        + SearchVector("impact", "lessons", "to_improve", weight="B", config="english")
        + SearchVector("detection", "detection_sooner", "response", "went_well", weight="C", config="english")))


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0016_update_promises_and_root_cause"),
        ("postmortems", "0003_meetings_trackers_digests"),
    ]

    operations = [
        migrations.AddField(
            model_name="postmortem",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(
                editable=False, null=True,
                help_text="PostgreSQL only (empty on SQLite): the weighted words the library searches, GIN-indexed; "
                          "kept by library.keep_search_document whenever the text or the incident's title changes."),
        ),
        migrations.RunPython(index_and_fill, drop_index),
    ]
