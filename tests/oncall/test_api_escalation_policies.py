"""/api/v1/escalation-policies/ as API.md gives it: the contract's shape, who may do what, and query counts."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from oncall.models import EscalationPolicy, Membership
from oncall.services import create_policy
from tests.config.test_api_schema_truth import conforms as _conforms
from tests.config.test_api_schema_truth import response_schema
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

POLICY = {
    "team": "payments", "name": "SEV1", "description": "Everyone, fast", "repeat": 1, "is_default": True,
    "steps": [
        {"delay_minutes": 15, "targets": [{"type": "rotation", "id": None}, {"type": "team_leads", "id": "payments"}]},
        {"delay_minutes": 30, "targets": [{"type": "user", "id": "bob"}, {"type": "team", "id": "payments"}]},
    ],
}


@pytest.fixture
def rotation(make_rotation, alice, bob):
    return make_rotation(name="Payments primary", participants=[alice, bob])


@pytest.fixture
def body(rotation):
    steps = [dict(s, targets=[dict(t) for t in s["targets"]]) for s in POLICY["steps"]]
    steps[0]["targets"][0]["id"] = rotation.pk
    return {**POLICY, "steps": steps}


@pytest.fixture
def policy(payments, alice, body):
    return create_policy(by=alice, **{**body, "team": payments})


@pytest.fixture(scope="module")
def openapi(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def conforms(openapi, path: str, method: str, status: int, instance) -> bool:
    return _conforms(openapi, response_schema(openapi, path, method, status), instance)


def test_a_lead_creates_a_policy_and_reads_back_exactly_what_was_sent(api, alice, body, openapi):
    response = api.as_user(alice).post("/api/v1/escalation-policies/", body, format="json")

    assert response.status_code == 201, response.json()
    created = response.json()
    assert set(created) == {"id", "team", "name", "description", "repeat", "is_default", "steps"}
    assert {k: created[k] for k in body} == body
    assert conforms(openapi, "/api/v1/escalation-policies/", "post", 201, created)

    detail = api.get(f"/api/v1/escalation-policies/{created['id']}/")
    assert detail.json() == created
    assert conforms(openapi, "/api/v1/escalation-policies/{id}/", "get", 200, detail.json())
    listed = api.get("/api/v1/escalation-policies/").json()
    assert listed["count"] == 1 and listed["results"] == [created]
    assert conforms(openapi, "/api/v1/escalation-policies/", "get", 200, listed)


def test_a_team_target_without_an_id_is_the_policys_own_team(api, alice, rotation):
    response = api.as_user(alice).post("/api/v1/escalation-policies/", {
        "team": "payments", "name": "Leads", "steps": [{"delay_minutes": 5, "targets": [{"type": "team_leads"}]}],
    }, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["steps"] == [{"delay_minutes": 5, "targets": [{"type": "team_leads", "id": "payments"}]}]
    assert (response.json()["repeat"], response.json()["is_default"], response.json()["description"]) == (0, False, "")


def test_patch_changes_only_what_it_names_and_history_says_who(api, alice, policy):
    response = api.as_user(alice).patch(f"/api/v1/escalation-policies/{policy.pk}/",
                                        {"repeat": 3, "is_default": False}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["repeat"], response.json()["is_default"], response.json()["name"]) == (3, False, "SEV1")
    row = policy.history.first()
    assert (row.history_user, row.history_change_reason) == (alice, "changed repeat, is_default")


def test_a_new_default_undefaults_the_old_one(api, alice, policy, rotation):
    response = api.as_user(alice).post("/api/v1/escalation-policies/", {
        "team": "payments", "name": "Quiet", "is_default": True,
        "steps": [{"delay_minutes": 60, "targets": [{"type": "layer", "id": "primary"}]}],
    }, format="json")
    assert response.status_code == 201
    assert api.get(f"/api/v1/escalation-policies/{policy.pk}/").json()["is_default"] is False


def test_delete_answers_204_and_the_policy_is_gone(api, alice, policy):
    assert api.as_user(alice).delete(f"/api/v1/escalation-policies/{policy.pk}/").status_code == 204
    assert not EscalationPolicy.objects.exists()
    assert api.get(f"/api/v1/escalation-policies/{policy.pk}/").status_code == 404


def test_a_member_reads_but_may_not_write(api, bob, body, policy):
    client = api.as_user(bob)
    assert client.get(f"/api/v1/escalation-policies/{policy.pk}/").status_code == 200
    for response in (
        client.post("/api/v1/escalation-policies/", {**body, "name": "Other"}, format="json"),
        client.patch(f"/api/v1/escalation-policies/{policy.pk}/", {"repeat": 0}, format="json"),
        client.delete(f"/api/v1/escalation-policies/{policy.pk}/"),
    ):
        assert response.status_code == 403
        assert response.json()["detail"] == ("Only the leads and managers of team payments may change its "
                                             "escalation policies.")
    assert EscalationPolicy.objects.get().repeat == 1


def test_another_teams_policy_does_not_exist_for_an_outsider(api, charlie, body, policy):
    client = api.as_user(charlie)
    assert client.get("/api/v1/escalation-policies/").json()["count"] == 0
    for response in (
        client.get(f"/api/v1/escalation-policies/{policy.pk}/"),
        client.patch(f"/api/v1/escalation-policies/{policy.pk}/", {"repeat": 0}, format="json"),
        client.delete(f"/api/v1/escalation-policies/{policy.pk}/"),
    ):
        assert response.status_code == 404
    response = client.post("/api/v1/escalation-policies/", {**body, "name": "Other"}, format="json")
    assert response.status_code == 400
    assert response.json()["team"] == ["Unknown team 'payments'; give the slug of one of your teams."]


def test_staff_see_and_change_every_teams_policies(api, sam, policy):
    client = api.as_user(sam)
    assert client.get("/api/v1/escalation-policies/").json()["count"] == 1
    assert client.patch(f"/api/v1/escalation-policies/{policy.pk}/", {"name": "SEV1 loud"},
                        format="json").status_code == 200


def test_the_team_filter(api, sam, policy, search_team):
    create_policy(team=search_team, name="Search", steps=[{"delay_minutes": 5, "targets": [{"type": "team"}]}],
                  by=None)
    client = api.as_user(sam)
    assert [p["name"] for p in client.get("/api/v1/escalation-policies/", {"team": "search"}).json()["results"]] \
        == ["Search"]
    assert client.get("/api/v1/escalation-policies/").json()["count"] == 2
    assert client.get("/api/v1/escalation-policies/", {"team": "nowhere"}).json()["count"] == 0


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"steps": [{"delay_minutes": 5, "targets": [{"type": "user", "id": "zed"}]}]}, "steps",
     "Step 1, target 1: no user 'zed'; give a username."),
    ({"steps": [{"delay_minutes": 5, "targets": [{"type": "layer", "id": "night"}]}]}, "steps",
     "Step 1, target 1: team payments has no layer 'night'; its layers are primary."),
    ({"steps": [{"delay_minutes": 5, "targets": [{"type": "rotation", "id": 10**30}]}]}, "steps",
     "Step 1, target 1: no rotation"),
    ({"steps": [{"delay_minutes": 5, "targets": [{"type": "team_managers", "id": "ghosts"}]}]}, "steps",
     "Step 1, target 1: no team 'ghosts'"),
    ({"steps": []}, "steps", "A policy needs at least one step."),
    ({"steps": {"delay_minutes": 5}}, "steps", "steps must be a list"),
    ({"repeat": 10}, "repeat", "less than or equal to 9"),
    ({"repeat": "2"}, "repeat", "Give a whole number"),
    ({"is_default": "yes"}, "is_default", "Give true or false"),
    ({"name": ""}, "name", "may not be blank"),
    ({"name": "SEV1"}, "name", "already has a policy named 'SEV1'"),
    ({"team": "nowhere"}, "team", "Unknown team 'nowhere'"),
])
def test_bad_input_is_a_400_naming_the_field(api, alice, policy, body, change, field, words):
    response = api.as_user(alice).post("/api/v1/escalation-policies/", {**body, "name": "New", **change},
                                       format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert words in " ".join(response.json()[field])
    assert EscalationPolicy.objects.count() == 1


def test_patching_the_team_is_refused(api, alice, policy, search_team):
    response = api.as_user(alice).patch(f"/api/v1/escalation-policies/{policy.pk}/", {"team": "search"},
                                        format="json")
    assert response.status_code == 400
    assert "stays with its team" in response.json()["detail"]


def _grow(n, payments, start, rotation):
    TeamFactory(slug="search")  # a team the steps name beyond payments
    for i in range(start, start + n):
        person = UserFactory(username=f"p{i:03d}")
        MembershipFactory(team=payments, user=person, role=Membership.Role.MANAGER)
        create_policy(team=payments, name=f"Policy {i:03d}", by=None, steps=[
            {"delay_minutes": 5, "targets": [{"type": "rotation", "id": rotation.pk}, {"type": "user", "id": person.username}]},
            {"delay_minutes": 5, "targets": [{"type": "layer", "id": "primary"}, {"type": "team_leads", "id": "search"}]},
        ])


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_the_list_runs_the_same_number_of_queries_for_3_or_30_policies(
        api, alice, sam, payments, rotation, who, request, django_assert_max_num_queries):
    client = api.as_user(request.getfixturevalue(who))
    _grow(3, payments, 0, rotation)
    with django_assert_max_num_queries(8) as few:
        assert client.get("/api/v1/escalation-policies/", {"page_size": 500}).status_code == 200
    _grow(27, payments, 3, rotation)
    with django_assert_max_num_queries(8) as many:
        response = client.get("/api/v1/escalation-policies/", {"page_size": 500})
    assert response.data["count"] == 30
    assert len(many.captured_queries) == len(few.captured_queries)
    assert response.data["results"][29]["steps"][0]["targets"][1] == {"type": "user", "id": "p029"}
