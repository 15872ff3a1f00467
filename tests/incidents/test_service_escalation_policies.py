"""A service names its team's escalation policies: a default, and one per severity, through the API and its page."""

import re

import pytest

from incidents.models import Service, SeverityPolicy
from oncall.services import create_policy
from tests.factories import ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db

STEPS = [{"delay_minutes": 15, "targets": [{"type": "team_leads"}]}]


@pytest.fixture
def loud(payments, alice):
    return create_policy(team=payments, name="Loud", steps=STEPS, by=alice)


@pytest.fixture
def quiet(payments, alice):
    return create_policy(team=payments, name="Quiet", steps=STEPS, is_default=True, by=alice)


@pytest.fixture
def foreign(search_team):
    return create_policy(team=search_team, name="Search", steps=STEPS, by=None)


def test_a_service_names_a_default_and_per_severity_policies(api, alice, checkout, loud, quiet):
    client = api.as_user(alice)
    before = client.get("/api/v1/services/checkout/").json()
    assert (before["escalation_policy"], before["escalation_policies"]) == (None, {})

    response = client.patch("/api/v1/services/checkout/", {
        "escalation_policy": quiet.pk, "escalation_policies": {"SEV1": loud.pk, "sev2": loud.pk}}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["escalation_policy"] == quiet.pk
    assert response.json()["escalation_policies"] == {"SEV1": loud.pk, "SEV2": loud.pk}
    assert client.get("/api/v1/services/checkout/").json()["escalation_policies"] == {"SEV1": loud.pk, "SEV2": loud.pk}
    row = Service.history.filter(id=checkout.pk).first()
    assert row.history_user == alice
    assert row.history_change_reason == ("changed escalation_policy; "
                                         "escalation policies per severity: SEV1 → Loud, SEV2 → Loud")


def test_a_write_replaces_the_mapping_and_null_unsets_the_default(api, alice, checkout, loud, quiet):
    client = api.as_user(alice)
    client.patch("/api/v1/services/checkout/", {"escalation_policy": loud.pk,
                                                "escalation_policies": {"SEV1": loud.pk, "SEV2": quiet.pk}},
                 format="json")
    response = client.patch("/api/v1/services/checkout/", {"escalation_policies": {"SEV3": quiet.pk}}, format="json")
    assert response.json()["escalation_policies"] == {"SEV3": quiet.pk}
    assert response.json()["escalation_policy"] == loud.pk  # not named: unchanged
    response = client.patch("/api/v1/services/checkout/", {"escalation_policy": None, "escalation_policies": {}},
                            format="json")
    assert (response.json()["escalation_policy"], response.json()["escalation_policies"]) == (None, {})
    assert not SeverityPolicy.objects.exists()
    history = Service.history.filter(id=checkout.pk).first()
    assert history.history_change_reason == "changed escalation_policy; escalation policies per severity: none"


def test_creating_a_service_with_its_policies(api, alice, loud, quiet):
    response = api.as_user(alice).post("/api/v1/services/", {
        "slug": "ledger", "name": "Ledger", "team": "payments", "escalation_policy": quiet.pk,
        "escalation_policies": {"SEV1": loud.pk}}, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["escalation_policy"], response.json()["escalation_policies"]) == (quiet.pk, {"SEV1": loud.pk})


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"escalation_policy": "foreign"}, "escalation_policy", "Team payments has no escalation policy"),
    ({"escalation_policy": 10**9}, "escalation_policy", "Team payments has no escalation policy 1000000000"),
    ({"escalation_policy": "1"}, "escalation_policy", "Give a whole number"),
    ({"escalation_policy": 2**70}, "escalation_policy", "less than or equal to"),
    ({"escalation_policies": {"SEV9": "loud"}}, "escalation_policies", "Unknown severity 'SEV9'"),
    ({"escalation_policies": {"SEV1": "foreign"}}, "escalation_policies", "SEV1: team payments has no escalation "
                                                                           "policy"),
    ({"escalation_policies": {"SEV1": "12"}}, "escalation_policies", "SEV1: give a policy's id, a whole number"),
    ({"escalation_policies": {"SEV1": None}}, "escalation_policies", "SEV1: give a policy's id"),
    ({"escalation_policies": ["SEV1"]}, "escalation_policies", "Give an object of severity names and policy ids"),
])
def test_unknown_severities_and_other_teams_policies_are_a_400(api, alice, checkout, loud, foreign, body, field,
                                                               words):
    names = {"loud": loud.pk, "foreign": foreign.pk}
    if body.get("escalation_policy") in names:
        body = {"escalation_policy": names[body["escalation_policy"]]}
    if isinstance(body.get("escalation_policies"), dict):
        body = {"escalation_policies": {k: names.get(v, v) for k, v in body["escalation_policies"].items()}}

    response = api.as_user(alice).patch("/api/v1/services/checkout/", body, format="json")

    assert response.status_code == 400, response.json()
    assert words in " ".join(response.json()[field])
    checkout.refresh_from_db()
    assert checkout.escalation_policy is None and not SeverityPolicy.objects.exists()


def test_another_teams_policy_reads_exactly_as_one_that_does_not_exist(api, alice, checkout, foreign):
    client = api.as_user(alice)
    theirs = client.patch("/api/v1/services/checkout/", {"escalation_policy": foreign.pk}, format="json").json()
    nobodys = client.patch("/api/v1/services/checkout/", {"escalation_policy": foreign.pk + 1000}, format="json").json()
    assert re.sub(r"policy \d+", "policy N", theirs["escalation_policy"][0]) == \
        re.sub(r"policy \d+", "policy N", nobodys["escalation_policy"][0])


def test_moving_a_service_drops_the_old_teams_policies(api, sam, checkout, loud, foreign):
    client = api.as_user(sam)
    client.patch("/api/v1/services/checkout/", {"escalation_policy": loud.pk, "escalation_policies": {"SEV1": loud.pk}},
                 format="json")

    moved = client.patch("/api/v1/services/checkout/", {"team": "search"}, format="json").json()
    assert (moved["team"], moved["escalation_policy"], moved["escalation_policies"]) == ("search", None, {})

    back = client.patch("/api/v1/services/checkout/", {"team": "payments", "escalation_policy": foreign.pk},
                        format="json")
    assert back.status_code == 400  # search's policy does not go with a payments service


def test_a_member_may_not_choose_policies(api, bob, checkout, loud):
    response = api.as_user(bob).patch("/api/v1/services/checkout/", {"escalation_policy": loud.pk}, format="json")
    assert response.status_code == 403


def test_the_service_list_runs_the_same_number_of_queries_for_3_or_30_services(
        api, alice, payments, loud, quiet, django_assert_max_num_queries):
    from incidents.services import update_service

    def grow(start, n):
        for i in range(start, start + n):
            service = ServiceFactory(slug=f"s{i:02d}", team=payments)
            update_service(service=service, by=None, escalation_policy=quiet,
                           escalation_policies={"SEV1": loud, "SEV2": quiet})

    client = api.as_user(alice)
    grow(0, 3)
    with django_assert_max_num_queries(10) as few:
        assert client.get("/api/v1/services/", {"page_size": 500}).status_code == 200
    grow(3, 27)
    with django_assert_max_num_queries(10) as many:
        response = client.get("/api/v1/services/", {"page_size": 500})
    assert response.json()["count"] == 30
    assert response.json()["results"][-1]["escalation_policies"] == {"SEV1": loud.pk, "SEV2": quiet.pk}
    assert len(many.captured_queries) == len(few.captured_queries)


# --- The service page ----------------------------------------------------------------

def test_the_service_page_says_who_is_paged(client, bob, checkout, loud, quiet):
    client.force_login(bob)
    page = client.get("/services/checkout/").content.decode()
    assert "the team's default policy" in page and "Quiet" in page
    assert "Choose the escalation policies" not in page  # a member reads
    assert client.post("/services/checkout/", {"escalation_policy": loud.pk}).status_code == 403
    checkout.refresh_from_db()
    assert checkout.escalation_policy is None


def test_without_any_policy_the_page_says_what_happens(client, bob, checkout):
    client.force_login(bob)
    assert "primary layer, then its leads after 15 minutes" in client.get("/services/checkout/").content.decode()


def test_a_lead_chooses_policies_on_the_service_page(client, alice, checkout, loud, quiet):
    client.force_login(alice)
    page = client.get("/services/checkout/").content.decode()
    assert "Choose the escalation policies" in page and 'name="sev_SEV1"' in page

    response = client.post("/services/checkout/", {"escalation_policy": str(loud.pk), "sev_SEV1": str(quiet.pk),
                                                   "sev_SEV2": "", "sev_SEV3": "", "sev_SEV4": ""})

    assert response.status_code == 302
    checkout.refresh_from_db()
    assert checkout.escalation_policy == loud
    assert {sp.severity.name: sp.policy for sp in checkout.severity_policies.all()} == {"SEV1": quiet}
    page = client.get("/services/checkout/").content.decode()
    assert "SEV1 incidents: <a" in page and "Other incidents" in page


def test_the_service_page_offers_only_its_teams_policies(client, alice, checkout, loud, foreign):
    client.force_login(alice)
    assert "Search</option>" not in client.get("/services/checkout/").content.decode()
    response = client.post("/services/checkout/", {"escalation_policy": str(foreign.pk)})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_an_outsider_gets_404_for_the_service_page(client, charlie, checkout):
    client.force_login(charlie)
    assert client.get("/services/checkout/").status_code == 404
    assert client.post("/services/checkout/", {}).status_code == 404


def test_staff_may_choose_for_any_team(client, sam, loud, checkout):
    TeamFactory(slug="other")
    client.force_login(sam)
    assert client.post("/services/checkout/", {"escalation_policy": str(loud.pk)}).status_code == 302
