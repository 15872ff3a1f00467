"""Communication templates: placeholders from a real incident, the sandbox, overrides, who may write them,
and their pages (/comms/templates/) with a preview that renders unsaved text."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template import TemplateSyntaxError
from django.test import Client
from django.test.utils import CaptureQueriesContext

from comms import templating
from comms.models import PUBLIC_KINDS, CommTemplate, TemplateKind
from comms.services import delete_template, save_template
from incidents.models import Incident
from incidents.services import acknowledge_incident, assign_role, resolve_incident, update_incident
from tests.factories import (
    MembershipFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
    make_incident,
)

pytestmark = pytest.mark.django_db

DECLARED = datetime(2026, 12, 1, 13, 10, tzinfo=UTC)
STARTED = datetime(2026, 12, 1, 13, 3, tzinfo=UTC)  # 14:03 in Berlin (CET)
EVERY_PLACEHOLDER = " | ".join(f"{{{{ {name} }}}}" for name in templating.PLACEHOLDERS)
INTERNAL_KINDS = [k for k in TemplateKind.values if k not in PUBLIC_KINDS]


@pytest.fixture
def incident(payments, alice, checkout):
    gateway = ServiceFactory(slug="gateway", name="Card gateway", team=payments)
    incident = make_incident(team=payments, by=alice, sev="SEV2", services=[gateway, checkout],
                             title="Checkout errors", impact="Card payments fail for about 1 in 5 customers.",
                             started_at=STARTED, now=DECLARED)
    update_incident(incident=incident, by=alice, root_cause="An expired TLS certificate on the gateway.")
    acknowledge_incident(incident=incident, by=alice, now=DECLARED + timedelta(minutes=2))
    assign_role(incident=incident, role="commander", user=alice, by=alice, now=DECLARED + timedelta(minutes=3))
    return Incident.objects.get(pk=incident.pk)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Rendering ----------------------------------------------------------------------------------------------

def test_every_placeholder_renders_from_the_incident(incident):
    context = templating.context_for(incident, now=STARTED + timedelta(hours=1, minutes=12),
                                     next_update_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    assert templating.render(EVERY_PLACEHOLDER, context) == (
        f"{incident.number} | Checkout errors | SEV2 | Acknowledged | Card gateway, Checkout API"
        " | Card payments fail for about 1 in 5 customers. | Alice Archer | 1 Dec 2026, 14:03 CET | 1 h 12 min"
        " | 1 Dec 2026, 16:00 CET | An expired TLS certificate on the gateway. | Payments"
    )
    assert all(type(value) is str for value in context.values())  # never a model: nothing to reach through


def test_times_carry_the_team_zone_and_its_label_summer_and_winter(search_team, charlie):
    july = make_incident(team=search_team, by=charlie, now=datetime(2026, 7, 1, 13, 3, tzinfo=UTC))
    context = templating.context_for(july, now=datetime(2026, 7, 1, 13, 38, tzinfo=UTC),
                                     next_update_at=datetime(2026, 12, 24, 23, 30, tzinfo=UTC))
    # No impact start: the declaration counts.
    assert (context["start"], context["duration"], context["next_update"]) == (
        "1 Jul 2026, 09:03 EDT", "35 min", "24 Dec 2026, 18:30 EST")


def test_empty_fields_render_empty_and_a_resolved_incident_lasts_until_its_resolution(payments, alice):
    incident = make_incident(team=payments, by=alice, sev="SEV4", now=DECLARED)
    resolve_incident(incident=incident, by=alice, now=DECLARED + timedelta(days=2, hours=3, minutes=20))
    context = templating.context_for(Incident.objects.get(pk=incident.pk), now=DECLARED + timedelta(days=30))
    assert {k: context[k] for k in ("services", "impact", "commander", "next_update", "root_cause")} == dict.fromkeys(
        ("services", "impact", "commander", "next_update", "root_cause"), "")
    assert (context["status"], context["duration"], context["severity"]) == ("Resolved", "2 d 3 h", "SEV4")


@pytest.mark.parametrize(("delta", "shown"), [
    (timedelta(seconds=20), "under 1 min"), (timedelta(minutes=35), "35 min"), (timedelta(hours=2), "2 h"),
    (timedelta(hours=1, minutes=12), "1 h 12 min"), (timedelta(days=2, hours=3, minutes=59), "2 d 3 h"),
    (timedelta(days=3), "3 d"), (timedelta(minutes=-5), "under 1 min"),
])
def test_durations_read_like_a_person_writes_them(delta, shown):
    assert templating.format_duration(delta) == shown


def test_text_is_plain_never_html_escaped(payments, alice):
    incident = make_incident(team=payments, by=alice, title="<b>Checkout</b> & \"cards\"", now=DECLARED)
    subject, body = templating.render_pair("{{ title }}", "{{ title|upper }}", templating.context_for(incident))
    assert (subject, body) == ('<b>Checkout</b> & "cards"', '<B>CHECKOUT</B> & "CARDS"')


def test_conditions_filters_and_blank_lines(incident):
    body = ("{% if root_cause %}Cause: {{ root_cause|truncatewords:3 }}{% else %}Cause unknown{% endif %}\n\n\n"
            "{% if commander == 'Nobody' %}x{% elif not impact %}y{% endif %}\n\n"
            "{{ next_update|default:\"Next update: soon\" }} {{ title|truncatechars:9 }}"
            " {{ impact|yesno:'impact,none' }} {{ team|lower|capfirst }}")
    _, rendered = templating.render_pair("", body, templating.context_for(incident))
    assert rendered == "Cause: An expired TLS …\n\nNext update: soon Checkout… impact Payments"


def test_context_for_runs_three_queries_or_none_when_prefetched(incident, django_assert_num_queries):
    for n in range(5):
        ServiceFactory(slug=f"extra-{n}", team=incident.team).incidents.add(incident)
    plain = Incident.objects.get(pk=incident.pk)
    with django_assert_num_queries(3):
        assert templating.context_for(plain)["services"].count(",") == 6
    prefetched = templating.prefetch_context(Incident.objects.filter(pk=incident.pk)).get()
    with django_assert_num_queries(0):
        assert templating.context_for(prefetched)["commander"] == "Alice Archer"


# --- The sandbox --------------------------------------------------------------------------------------------

def refusal(text: str, kind: str = TemplateKind.UPDATE, field: str = "body") -> str:
    with pytest.raises(ValidationError) as caught:
        templating.validate(text, kind=kind, field=field)
    assert list(caught.value.message_dict) == [field]
    return " ".join(caught.value.message_dict[field])


def test_every_default_text_is_valid_for_its_kind():
    assert set(templating.DEFAULTS) == set(TemplateKind.values)
    for kind, (subject, body) in templating.DEFAULTS.items():
        templating.validate(subject, kind=kind, field="subject")
        templating.validate(body, kind=kind)


@pytest.mark.parametrize("text", [
    "{{ title.upper }}", "{{ services.0 }}", "{{ title.__class__ }}", "{% if title.upper %}x{% endif %}",
    "{% if impact %}x{% elif team.members %}y{% endif %}", "{% if not commander.is_staff %}x{% endif %}",
    "{{ title|default:services.0 }}", "{{ title|yesno:team.name }}",
])
def test_no_attribute_access_in_variables_conditions_or_filter_arguments(text):
    message = refusal(text)
    assert "no attribute access" in message or "may not begin with underscores" in message


@pytest.mark.parametrize("tag", [
    "load humanize", "include 'base.html'", "extends 'base.html'", "block content", "debug", "url 'dashboard'",
    "csrf_token", "now 'Y'", "ssi '/etc/passwd'", "templatetag openblock", "widthratio 1 2 3", "for x in services",
    "with x=title", "cycle 'a' 'b'", "firstof title", "autoescape off", "spaceless", "filter upper",
    "lorem", "regroup services by x as y", "verbatim", "resetcycle", "ifchanged",
])
def test_only_if_and_comment_tags_are_allowed_and_a_refused_tag_is_named(tag):
    message = refusal(f"Hello\n{{% {tag} %}}")
    name = tag.split()[0]
    assert f"Line 2: the tag {{% {name} %}} is not allowed" in message


@pytest.mark.parametrize("name", ["safe", "escape", "date:'Y'", "add:1", "slice:':2'", "join:','", "pprint", "first",
                                  "linebreaks", "stringformat:'s'", "urlize", "length", "make_list", "force_escape"])
def test_only_plain_text_filters_are_allowed_and_a_refused_filter_is_named(name):
    message = refusal(f"{{{{ title|{name} }}}}")
    assert f"the filter |{name.split(':')[0]} is not allowed; use one of: default, upper" in message


def test_an_unknown_placeholder_is_named_with_the_known_ones():
    message = refusal("Dear customer,\n{{ title }} hit {{ customer_name }} at {{ start }}.", field="subject")
    assert message.startswith("Line 2: unknown placeholder {{ customer_name }}; the placeholders are: number, title")
    assert "root_cause, team." in message


def test_each_unknown_placeholder_is_named_once_even_inside_conditions():
    message = refusal("{{ foo }}{% if bar %}{{ foo }}{% endif %}{{ title|default:baz }}")
    assert message.count("{{ foo }}") == 1 and "{{ bar }}" in message and "{{ baz }}" in message


@pytest.mark.parametrize("kind", sorted(PUBLIC_KINDS))
def test_the_commander_is_refused_where_customers_read(kind):
    for text in ("{{ commander }}", "{% if commander %}led{% endif %}", "{{ title|default:commander }}"):
        assert "customers read this template, and they never see people's names" in refusal(text, kind=kind)


@pytest.mark.parametrize("kind", INTERNAL_KINDS)
def test_the_commander_is_allowed_in_internal_templates(kind):
    templating.validate("{{ commander|default:'nobody yet' }}", kind=kind)


@pytest.mark.parametrize(("text", "expected"), [
    ("ok\n{% if title %}open", "Line 2: {% if %} is not closed: end it with {% endif %}."),
    ("ok\n\n{% endif %}", "Line 3: {% endif %} has no {% if %} before it."),
    ("{{ title|default }}", "Line 1: default requires 2 arguments, 1 provided"),
    ("{{ title|wordwrap:0 }}", "Line 1: |wordwrap needs a whole number above zero, e.g. |wordwrap:80."),
    ("{{ title|truncatechars:title }}", "Line 1: |truncatechars needs a whole number above zero"),
    ("{{ }}", "Line 1: Empty variable tag"),
])
def test_syntax_errors_say_the_line(text, expected):
    assert refusal(text).startswith(expected)


def test_the_engine_itself_knows_no_other_tag_or_filter_even_for_unchecked_text(incident):
    # Defence in depth: text that skipped validate still cannot load, include or use Django's other filters.
    context = templating.context_for(incident)
    for text in ("{% load static %}", "{% include 'base.html' %}", "{{ title|pprint }}", "{% debug %}"):
        with pytest.raises(TemplateSyntaxError):
            templating.render(text, context)


def test_validated_text_renders_without_raising_whatever_the_values():
    text = ("{{ title|truncatechars:1 }}{{ title|wordwrap:1 }}{{ title|yesno:'a' }}{{ number|title }}"
            "{% if duration > 5 %}x{% endif %}{{ 1e999 }}{{ '' }}{{ True }}")
    templating.validate(text, kind="update")
    for value in ("", "x" * 10_000, "é\u2028\x00", "{{ title }}"):
        assert isinstance(templating.render(text, dict.fromkeys(templating.PLACEHOLDERS, value)), str)


# --- Organisation templates and team overrides --------------------------------------------------------------

def test_the_migration_seeded_the_organisations_templates_with_the_defaults():
    seeded = {t.kind: (t.subject, t.body) for t in CommTemplate.objects.filter(team__isnull=True)}
    assert seeded == {kind: (subject, body.strip()) for kind, (subject, body) in templating.DEFAULTS.items()}
    assert CommTemplate.history.filter(history_change_reason="default text seeded").count() == len(TemplateKind.values)


def test_a_team_override_wins_and_removing_it_falls_back(incident, alice, search_team, charlie):
    save_template(team=None, kind="update", subject="Org {{ number }}", body="Org body {{ title }}", by=None)
    override = save_template(team=incident.team, kind="update", subject="Payments {{ number }}",
                             body="Payments body {{ severity }}", by=alice)
    assert templating.render_for("update", incident) == (f"Payments {incident.number}", "Payments body SEV2")
    other = make_incident(team=search_team, by=charlie, title="Search is slow")
    assert templating.render_for("update", other) == (f"Org {other.number}", "Org body Search is slow")
    delete_template(template=override, by=alice)
    assert templating.render_for("update", incident) == (f"Org {incident.number}", "Org body Checkout errors")
    assert not CommTemplate.objects.filter(team=incident.team).exists()


def test_without_any_stored_template_the_default_text_is_used(incident):
    CommTemplate.objects.all().delete()  # a flushed database: nothing seeded
    subject, body = templating.render_for("status_investigating", incident)
    assert subject == "Investigating: Checkout errors"
    assert body == ("We are investigating an issue: Card payments fail for about 1 in 5 customers.\n\n"
                    "We will post an update as soon as we know more.")


def test_a_stored_text_that_no_longer_validates_is_not_rendered(incident):
    CommTemplate.objects.filter(kind="resolution", team__isnull=True).update(body="{{ incident.team.members }}")
    subject, body = templating.render_for("resolution", incident)
    assert subject == f"[Resolved] {incident.number}: Checkout errors" and body.startswith(incident.number)


def test_the_default_public_texts_name_nobody(incident):
    for kind in PUBLIC_KINDS:
        subject, body = templating.render_for(kind, incident, next_update_at=DECLARED + timedelta(hours=1))
        assert "Alice" not in subject + body and "TLS" not in subject + body, kind


def test_saving_records_who_and_why_and_the_same_text_twice_writes_nothing(payments, alice):
    first = save_template(team=payments, kind="initial", subject="A {{ title }}", body="B", by=alice)
    second = save_template(team=payments, kind="initial", subject="A {{ title }}", body="C", by=alice)
    save_template(team=payments, kind="initial", subject=" A {{ title }} ", body="C\n", by=alice)
    assert first.pk == second.pk and (second.updated_by, second.body) == (alice, "C")
    assert [(h.history_change_reason, h.history_user) for h in second.history.order_by("history_id")] == [
        ("team override added", alice), ("changed body", alice)]


def test_the_service_refuses_bad_text_on_its_field(payments, alice):
    with pytest.raises(ValidationError) as caught:
        save_template(team=payments, kind="status_resolved", subject="{{ commander }}", body="{{ titel }}", by=alice)
    assert set(caught.value.message_dict) == {"subject", "body"}
    with pytest.raises(ValidationError) as caught:
        save_template(team=payments, kind="update", subject="", body="   ", by=alice)
    assert caught.value.message_dict == {"body": ["A template needs a body."]}
    with pytest.raises(ValidationError) as caught:
        save_template(team=payments, kind="bogus", subject="", body="x", by=alice)
    assert "kind" in caught.value.message_dict
    assert not CommTemplate.objects.filter(team=payments).exists()


# --- Who may write ------------------------------------------------------------------------------------------

def test_a_member_may_not_write_a_team_override(payments, bob):
    with pytest.raises(PermissionDenied):
        save_template(team=payments, kind="update", subject="", body="x", by=bob)


def test_a_lead_writes_her_own_teams_override_but_not_another_teams(payments, search_team, alice):
    save_template(team=payments, kind="update", subject="", body="x", by=alice)
    with pytest.raises(PermissionDenied):
        save_template(team=search_team, kind="update", subject="", body="x", by=alice)


def test_the_organisations_templates_are_staff_only_and_never_deleted(alice, sam):
    with pytest.raises(PermissionDenied, match="Only staff"):
        save_template(team=None, kind="update", subject="", body="x", by=alice)
    org = save_template(team=None, kind="update", subject="", body="x", by=sam)
    with pytest.raises(ValidationError, match="cannot be deleted, only edited"):
        delete_template(template=org, by=sam)
    assert CommTemplate.objects.filter(pk=org.pk).exists()


def test_a_member_may_not_remove_an_override(payments, alice, bob):
    override = save_template(team=payments, kind="update", subject="", body="x", by=alice)
    with pytest.raises(PermissionDenied):
        delete_template(template=override, by=bob)
    delete_template(template=override, by=alice)
    delete_template(template=override, by=alice)  # already gone: nothing to do
    assert override.history.latest("history_id").history_change_reason == "team override removed"


# --- Pages --------------------------------------------------------------------------------------------------

LIST = "/comms/templates/"


def org_url(kind: str) -> str:
    return f"/comms/templates/{kind}/"


def team_url(team, kind: str) -> str:
    return f"/comms/templates/{team.slug}/{kind}/"


def test_the_list_shows_every_kind_the_organisations_text_and_the_readers_overrides(
        payments, search_team, alice, charlie, sam):
    save_template(team=payments, kind="update", subject="Payments says {{ number }}", body="x", by=alice)
    save_template(team=search_team, kind="update", subject="Search says {{ number }}", body="x", by=sam)
    html = client_for(alice).get(LIST).content.decode()
    for label in TemplateKind.labels:
        assert label in html
    assert "[{{ severity }}] {{ number }}: {{ title }}" in html  # the organisation's initial subject
    assert "Payments says" in html and "Search says" not in html
    assert f'href="{team_url(payments, "update")}"' in html
    assert f'href="{team_url(payments, "initial")}">Payments</a>' in html  # add an override
    assert team_url(search_team, "initial") not in html
    assert 'href="/comms/templates/">Templates</a>' in html  # in the site navigation
    charlie_sees = client_for(charlie).get(LIST).content.decode()
    assert "Search says" in charlie_sees and "Payments says" not in charlie_sees
    assert team_url(search_team, "initial") not in charlie_sees  # a member adds nothing
    staff_sees = client_for(sam).get(LIST).content.decode()
    assert "Search says" in staff_sees and "Payments says" in staff_sees


def test_the_list_runs_the_same_queries_for_one_team_or_many(payments, alice, sam):
    save_template(team=payments, kind="update", subject="", body="x", by=alice)
    client = client_for(sam)
    client.get(LIST)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    for n in range(6):
        team = TeamFactory(slug=f"team-{n}", name=f"Team {n}")
        lead = UserFactory(username=f"lead-{n}")
        MembershipFactory(team=team, user=lead, role="lead")
        for kind in ("update", "initial", "customer_email"):
            save_template(team=team, kind=kind, subject=f"{{{{ title }}}} {n}", body="x", by=lead)
    with CaptureQueriesContext(connection) as many:
        html = client.get(LIST).content.decode()
    assert "Team 5" in html
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_edit_page_shows_placeholders_and_a_preview_of_the_newest_incident(incident, alice):
    response = client_for(alice).get(org_url("customer_email"))
    assert response.status_code == 200
    html = response.content.decode()
    for name in templating.PLACEHOLDERS:
        assert f"<code>{{{{ {name} }}}}</code>" in html
    assert "Refused here: customers read this template." in html
    assert "began 1 Dec 2026, 14:03 CET" in html and incident.number in html
    assert 'value="save"' not in html  # the organisation's: staff only
    assert "only staff can save them" in html


def test_a_refused_text_shows_its_error_on_the_field_and_saves_nothing(payments, alice, incident):
    before = CommTemplate.history.count()
    response = client_for(alice).post(team_url(payments, "update"), {
        "action": "save", "subject": "{{ number }}", "body": "Hello {{ customer_name }}", "incident": incident.number})
    assert response.status_code == 200
    html = response.content.decode()
    assert "unknown placeholder {{ customer_name }}; the placeholders are: number, title" in html
    assert 'id="id_body"' in html and "Hello {{ customer_name }}</textarea>" in html
    assert not CommTemplate.objects.filter(team=payments).exists() and CommTemplate.history.count() == before


def test_preview_renders_the_unsaved_text_with_the_chosen_incident_and_saves_nothing(payments, alice, incident):
    older = make_incident(team=payments, by=alice, title="Older incident", now=DECLARED - timedelta(days=1))
    before = CommTemplate.history.count()
    data = {"action": "preview", "subject": "[{{ severity }}] {{ title|upper }}",
            "body": "{{ number }} began {{ start }}{% if commander %}, led by {{ commander }}{% endif %}.",
            "incident": incident.number}
    html = client_for(alice).post(team_url(payments, "update"), data).content.decode()
    assert "[SEV2] CHECKOUT ERRORS</pre>" in html
    assert f"{incident.number} began 1 Dec 2026, 14:03 CET, led by Alice Archer.</pre>" in html
    html = client_for(alice).post(team_url(payments, "update"), {**data, "incident": older.number}).content.decode()
    assert "[SEV2] OLDER INCIDENT</pre>" in html
    assert not CommTemplate.objects.filter(team=payments).exists() and CommTemplate.history.count() == before


def test_preview_with_htmx_answers_only_the_preview_block(payments, alice, incident):
    client = client_for(alice)
    response = client.post(team_url(payments, "update"), {
        "action": "preview", "subject": "", "body": "{{ title }} ({{ status }})", "incident": incident.number,
    }, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card tpl-preview" id="template-preview"')
    assert "Checkout errors (Acknowledged)</pre>" in html and "<textarea" not in html
    refused = client.post(team_url(payments, "update"), {
        "action": "preview", "subject": "", "body": "{{ title.upper }}", "incident": incident.number,
    }, HTTP_HX_REQUEST="true").content.decode()
    assert "Nothing to preview until the text is fixed" in refused
    # The field's message comes out of band, in place of the one shown before.
    assert '<div id="id_body_errors" hx-swap-oob="true"><ul class="errorlist"' in refused
    assert "no attribute access" in refused


def test_preview_only_with_an_incident_the_reader_can_see(search_team, charlie, incident, payments, alice):
    response = client_for(charlie).post(team_url(search_team, "update"), {
        "action": "preview", "subject": "", "body": "{{ title }}", "incident": incident.number})
    assert response.status_code == 200
    assert "Checkout errors" not in response.content.decode()


def test_a_lead_adds_and_removes_her_teams_override(payments, alice, incident):
    client = client_for(alice)
    page = client.get(team_url(payments, "update")).content.decode()
    assert "Add an override</button>" in page and "Remove override" not in page
    response = client.post(team_url(payments, "update"), {
        "action": "save", "subject": "Payments: {{ title }}", "body": "Payments update: {{ status }}"})
    assert response.status_code == 302 and response["Location"] == "/comms/templates/#kind-update"
    override = CommTemplate.objects.get(team=payments, kind="update")
    assert (override.subject, override.updated_by) == ("Payments: {{ title }}", alice)
    assert templating.render_for("update", incident)[1] == "Payments update: Acknowledged"
    page = client.get(team_url(payments, "update")).content.decode()
    assert "Remove override</button>" in page and "The organisation's text" in page
    assert "team override added" in page  # its history
    assert client.post(team_url(payments, "update"), {"action": "remove"}).status_code == 302
    assert not CommTemplate.objects.filter(team=payments).exists()
    assert templating.render_for("update", incident)[1].startswith(f"Update on {incident.number}")


def test_a_member_reads_and_previews_but_may_not_save_or_remove(payments, alice, bob, incident):
    override = save_template(team=payments, kind="update", subject="", body="Ours", by=alice)
    client = client_for(bob)
    page = client.get(team_url(payments, "update")).content.decode()
    assert 'value="save"' not in page and "Remove override" not in page and "Ours" in page
    assert client.post(team_url(payments, "update"), {"action": "preview", "subject": "", "body": "{{ team }}",
                                                      "incident": incident.number}).status_code == 200
    assert client.post(team_url(payments, "update"), {"action": "save", "subject": "", "body": "Mine"}).status_code == 403
    assert client.post(team_url(payments, "update"), {"action": "remove"}).status_code == 403
    override.refresh_from_db()
    assert override.body == "Ours"


def test_another_teams_page_an_unknown_team_or_kind_is_a_404(payments, search_team, alice, charlie):
    client = client_for(charlie)
    assert client.get(team_url(payments, "update")).status_code == 404
    assert client.post(team_url(payments, "update"), {"action": "save", "body": "x"}).status_code == 404
    assert client.get("/comms/templates/nobody/update/").status_code == 404
    assert client.get(org_url("bogus")).status_code == 404
    assert client.get(team_url(search_team, "bogus")).status_code == 404
    assert client_for(alice).get(team_url(search_team, "update")).status_code == 404


def test_the_organisations_template_is_saved_by_staff_only(alice, sam, incident):
    data = {"action": "save", "subject": "Org: {{ title }}", "body": "Org body"}
    assert client_for(alice).post(org_url("initial"), data).status_code == 403
    assert client_for(sam).post(org_url("initial"), data).status_code == 302
    org = CommTemplate.objects.get(team__isnull=True, kind="initial")
    assert (org.subject, org.updated_by.username) == ("Org: {{ title }}", "sam")
    assert client_for(sam).post(org_url("initial"), {"action": "remove"}).status_code == 302  # nothing to remove
    assert CommTemplate.objects.filter(pk=org.pk).exists()


def test_pages_need_a_login(payments):
    assert Client().get(LIST).status_code == 302
    assert Client().get(team_url(payments, "update")).status_code == 302


# --- Admin --------------------------------------------------------------------------------------------------

def test_the_admin_checks_the_text_and_saves_through_the_service(sam, payments, monkeypatch):
    from comms import services

    calls = []
    real = services.save_template
    monkeypatch.setattr(services, "save_template", lambda **kw: calls.append(kw) or real(**kw))
    client = client_for(sam)
    refused = client.post("/admin/comms/commtemplate/add/", {
        "team": payments.pk, "kind": "status_resolved", "subject": "", "body": "Led by {{ commander }}"})
    assert refused.status_code == 200 and "never see people&#x27;s names" in refused.content.decode()
    added = client.post("/admin/comms/commtemplate/add/", {
        "team": payments.pk, "kind": "status_resolved", "subject": "", "body": "Fixed: {{ title }}"})
    assert added.status_code == 302
    override = CommTemplate.objects.get(team=payments, kind="status_resolved")
    assert [c["by"] for c in calls] == [sam]
    assert override.history.get().history_change_reason == "team override added"
    org = CommTemplate.objects.get(team__isnull=True, kind="status_resolved")
    assert client.post(f"/admin/comms/commtemplate/{org.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"/admin/comms/commtemplate/{org.pk}/history/").status_code == 200
    assert client.post(f"/admin/comms/commtemplate/{override.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not CommTemplate.objects.filter(pk=override.pk).exists()
