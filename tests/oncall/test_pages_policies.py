"""Escalation policies in the browser: the team page lists them in words; leads and managers edit them with a
plain form (no JavaScript); members read; another team's policy does not exist."""

import pytest

from oncall.models import EscalationPolicy, Membership
from oncall.services import create_policy
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def erik(payments):
    user = UserFactory(username="erik", full_name="Erik Eriksen")
    MembershipFactory(team=payments, user=user, role=Membership.Role.MANAGER)
    return user


@pytest.fixture
def rotation(make_rotation, alice, bob):
    return make_rotation(name="Payments primary", participants=[alice, bob])


@pytest.fixture
def policy(payments, search_team, alice, rotation):
    return create_policy(team=payments, name="SEV1", description="Loud", repeat=2, is_default=True, by=alice, steps=[
        {"delay_minutes": 15, "targets": [{"type": "layer", "id": "primary"}, {"type": "team_leads"}]},
        {"delay_minutes": 15, "targets": [{"type": "team_managers"}]},
        {"delay_minutes": 30, "targets": [{"type": "team_leads", "id": "search"}, {"type": "user", "id": "bob"}]},
    ])


def test_the_team_page_lists_policies_in_words(client, bob, policy):
    client.force_login(bob)
    page = client.get("/oncall/teams/payments/").content.decode()

    assert 'id="policies"' in page and "SEV1" in page and ">default</span>" in page
    assert "At once</strong>: whoever is on call in the primary layer, leads of Payments" in page
    assert "After 15 min</strong>: managers of Payments" in page
    assert "After 30 min</strong>: leads of Search, Bob Baker" in page
    assert "2 more times" in page
    # A member reads; no editing links.
    assert "/oncall/teams/payments/policies/new/" not in page
    assert f"/oncall/teams/payments/policies/{policy.pk}/delete/" not in page


def test_a_lead_sees_the_links_to_create_edit_and_delete(client, alice, policy):
    client.force_login(alice)
    page = client.get("/oncall/teams/payments/").content.decode()
    assert "/oncall/teams/payments/policies/new/" in page
    assert f"/oncall/teams/payments/policies/{policy.pk}/delete/" in page


def _form(**fields) -> dict:
    data = {"name": "", "description": "", "repeat": "0"}
    data.update(fields)
    return data


def test_a_lead_creates_a_policy_with_the_plain_form(client, alice, rotation, erik, search_team):
    client.force_login(alice)
    form = client.get("/oncall/teams/payments/policies/new/").content.decode()
    # The options speak the API's terms: type:id.
    for value in ("layer:primary", f"rotation:{rotation.pk}", "user:erik", "team_leads:payments",
                  "team_managers:payments", "team:payments", "team_leads:search", "team_managers:search"):
        assert f'value="{value}"' in form, value
    assert 'name="step8_delay"' in form and 'name="step9_delay"' not in form

    response = client.post("/oncall/teams/payments/policies/new/", _form(
        name="SEV2", repeat="1", is_default="on",
        step1_delay="15", step1_targets=["layer:primary"],
        step3_delay="30", step3_targets=["team_leads:payments", "user:erik"],  # row 2 left blank: skipped
    ))

    assert response.status_code == 302 and response["Location"] == "/oncall/teams/payments/#policies"
    policy = EscalationPolicy.objects.get(name="SEV2")
    assert (policy.repeat, policy.is_default) == (1, True)
    assert policy.steps == [
        {"delay_minutes": 15, "targets": [{"type": "layer", "id": "primary"}]},
        {"delay_minutes": 30, "targets": [{"type": "team_leads", "id": alice.memberships.get().team_id},
                                          {"type": "user", "id": erik.pk}]},
    ]
    row = policy.history.get()
    assert (row.history_user, row.history_change_reason) == (alice, "created as the team's default")


def test_the_edit_form_round_trips_a_policy_unchanged(client, alice, policy):
    client.force_login(alice)
    page = client.get(f"/oncall/teams/payments/policies/{policy.pk}/")
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data["is_default"] = "on"

    response = client.post(f"/oncall/teams/payments/policies/{policy.pk}/", data)

    assert response.status_code == 302
    assert policy.history.count() == 1  # nothing changed, nothing written
    assert 'selected>Bob Baker (bob)</option>' in page.content.decode()


def test_the_editor_spells_out_each_steps_targets_beside_its_list(client, alice, policy):
    # A multiple select shows a few options at a time: what a step pages must be readable without scrolling it.
    client.force_login(alice)
    page = client.get(f"/oncall/teams/payments/policies/{policy.pk}/").content.decode()
    assert "Pages now: Whoever is on call in the primary layer; Leads of Payments" in page
    assert "Pages now: Managers of Payments" in page
    assert "Pages now: Bob Baker (bob); Leads of Search" in page


def test_editing_changes_steps_and_says_who_in_history(client, erik, policy):
    client.force_login(erik)
    response = client.post(f"/oncall/teams/payments/policies/{policy.pk}/", _form(
        name="SEV1", repeat="0", step1_delay="5", step1_targets=["team:payments"]))

    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.steps == [{"delay_minutes": 5, "targets": [{"type": "team", "id": policy.team_id}]}]
    assert policy.is_default is False  # unticked
    row = policy.history.first()
    assert (row.history_user, row.history_change_reason) == (erik, "changed description, steps, repeat, is_default")


def test_form_errors_name_the_row_and_change_nothing(client, alice, policy):
    client.force_login(alice)
    response = client.post("/oncall/teams/payments/policies/new/", _form(
        name="Broken", step2_delay="10", step3_targets=["team:payments"], step4_delay="5",
        step4_targets=["user:nobody"]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose whom this step pages, or clear its minutes." in page
    assert "How many minutes should this step wait before the next one?" in page
    assert "Select a valid choice. user:nobody is not one of the available choices." in page
    assert not EscalationPolicy.objects.filter(name="Broken").exists()

    response = client.post("/oncall/teams/payments/policies/new/", _form(name="SEV1", step1_delay="5",
                                                                          step1_targets=["team:payments"]))
    assert "Team payments already has a policy named &#x27;SEV1&#x27;" in response.content.decode()
    assert client.post("/oncall/teams/payments/policies/new/", _form(name="Empty")).context["form"].errors[
        "__all__"] == ["Give at least one step: its minutes and whom it pages."]


def test_a_service_error_about_a_step_names_the_forms_row(client, alice, policy, bob):
    client.force_login(alice)
    bob.is_active = False
    bob.save()
    # bob is still among the "already in this policy" choices; the service refuses him by row.
    response = client.post(f"/oncall/teams/payments/policies/{policy.pk}/", _form(
        name="SEV1", step3_delay="5", step3_targets=["user:bob"]))
    assert response.status_code == 200
    assert "Step 3, target 1: bob is deactivated and cannot be paged" in response.content.decode()


def test_a_member_reads_a_policy_but_may_not_change_it(client, bob, policy):
    client.force_login(bob)
    page = client.get(f"/oncall/teams/payments/policies/{policy.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Who is paged, in what order" in body and "<form method=\"post\" class=\"policy-form\"" not in body
    assert "runs again, 2 more times" in body

    assert client.post(f"/oncall/teams/payments/policies/{policy.pk}/", _form(name="Mine")).status_code == 403
    assert client.get("/oncall/teams/payments/policies/new/").status_code == 403
    assert client.post("/oncall/teams/payments/policies/new/", _form(name="Mine")).status_code == 403
    assert client.get(f"/oncall/teams/payments/policies/{policy.pk}/delete/").status_code == 403
    assert client.post(f"/oncall/teams/payments/policies/{policy.pk}/delete/").status_code == 403
    assert EscalationPolicy.objects.get().name == "SEV1"


def test_another_teams_policy_is_a_404(client, charlie, policy):
    client.force_login(charlie)
    for path in (f"/oncall/teams/payments/policies/{policy.pk}/", f"/oncall/teams/payments/policies/{policy.pk}/delete/",
                 "/oncall/teams/payments/policies/new/", f"/oncall/teams/search/policies/{policy.pk}/"):
        assert client.get(path).status_code == 404, path
        assert client.post(path, _form(name="x")).status_code == 404, path


def test_delete_asks_first_naming_the_services_that_use_it(client, alice, policy, checkout):
    from incidents.services import update_service

    update_service(service=checkout, by=alice, escalation_policy=policy, escalation_policies={"SEV2": policy})
    client.force_login(alice)

    confirm = client.get(f"/oncall/teams/payments/policies/{policy.pk}/delete/").content.decode()
    assert "Checkout API: its default policy" in confirm
    assert "Checkout API: for SEV2 incidents" in confirm
    assert "leaves them without it" in confirm
    assert EscalationPolicy.objects.exists()

    response = client.post(f"/oncall/teams/payments/policies/{policy.pk}/delete/")
    assert response.status_code == 302
    assert not EscalationPolicy.objects.exists()
    checkout.refresh_from_db()
    assert checkout.escalation_policy is None


def test_the_team_page_runs_the_same_number_of_queries_for_2_or_12_policies(
        client, alice, payments, rotation, django_assert_max_num_queries):
    client.force_login(alice)

    def grow(start, n):
        for i in range(start, start + n):
            person = UserFactory(username=f"p{i:02d}")
            MembershipFactory(team=payments, user=person)
            create_policy(team=payments, name=f"P{i:02d}", by=None, steps=[
                {"delay_minutes": 5, "targets": [{"type": "user", "id": person.username},
                                                 {"type": "rotation", "id": rotation.pk}]},
                {"delay_minutes": 5, "targets": [{"type": "team_managers"}]}])

    grow(0, 2)
    with django_assert_max_num_queries(80) as few:
        client.get("/oncall/teams/payments/")
    grow(2, 10)
    with django_assert_max_num_queries(80) as many:
        page = client.get("/oncall/teams/payments/").content.decode()
    assert page.count('<tr id="policy-') == 12
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_policy_pages_have_each_html_id_once_and_labels_that_find_their_fields(
        client, alice, bob, policy, checkout):
    from tests.config.test_unique_html_ids import _check

    for who, urls in ((alice, ["/oncall/teams/payments/", "/oncall/teams/payments/policies/new/",
                               f"/oncall/teams/payments/policies/{policy.pk}/",
                               f"/oncall/teams/payments/policies/{policy.pk}/delete/", "/services/checkout/"]),
                      (bob, [f"/oncall/teams/payments/policies/{policy.pk}/", "/services/checkout/"])):
        client.force_login(who)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            _check(url, response.content.decode())
