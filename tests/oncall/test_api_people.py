"""People, teams and members over HTTP: who sees whom, who may change what."""

import pytest

from oncall.models import Membership, Team, User
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def usernames(response):
    assert response.status_code == 200, response.data
    return [row["username"] for row in response.data["results"]]


# --- Users -----------------------------------------------------------------------

def test_people_see_those_who_share_a_team_with_them(api, alice, bob, charlie, sam):
    assert usernames(api.as_user(alice).get("/api/v1/users/")) == ["alice", "bob"]
    assert usernames(api.as_user(charlie).get("/api/v1/users/")) == ["charlie"]


def test_staff_see_everyone(api, alice, bob, charlie, sam):
    assert usernames(api.as_user(sam).get("/api/v1/users/")) == ["alice", "bob", "charlie", "sam"]


def test_someone_in_no_team_sees_only_themselves(api, alice):
    loner = UserFactory(username="loner")
    assert usernames(api.as_user(loner).get("/api/v1/users/")) == ["loner"]


def test_a_person_is_read_by_username_with_the_documented_fields(api, alice, bob):
    response = api.as_user(alice).get("/api/v1/users/bob/")
    assert response.status_code == 200
    assert response.data == {"username": "bob", "email": "bob@example.com", "full_name": "Bob Baker",
                             "timezone": "UTC", "slack_user_id": "", "is_active": True}


def test_a_person_outside_your_teams_is_404(api, alice, charlie):
    response = api.as_user(alice).get("/api/v1/users/charlie/")
    assert response.status_code == 404
    assert response.data["code"] == "not_found"


def test_me_is_the_caller(api, charlie):
    response = api.as_user(charlie).get("/api/v1/users/me/")
    assert response.status_code == 200
    assert response.data["username"] == "charlie"
    assert response.data["timezone"] == "America/New_York"


def test_staff_create_people(api, sam):
    response = api.as_user(sam).post("/api/v1/users/", {
        "username": "dana", "email": "dana@example.com", "full_name": "Dana Diaz", "timezone": "Asia/Tokyo",
    }, format="json")
    assert response.status_code == 201, response.data
    dana = User.objects.get(username="dana")
    assert dana.timezone == "Asia/Tokyo"
    assert not dana.has_usable_password()


def test_non_staff_may_not_create_people(api, alice):
    response = api.as_user(alice).post("/api/v1/users/", {"username": "dana"}, format="json")
    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"
    assert not User.objects.filter(username="dana").exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"username": "alice"}, "username"),
    ({"username": "dana", "timezone": "Mars/Olympus"}, "timezone"),
    ({"username": "dana", "email": "not-an-email"}, "email"),
    ({"username": "has spaces"}, "username"),
    ({}, "username"),
])
def test_bad_person_input_is_400(api, sam, alice, body, field):
    response = api.as_user(sam).post("/api/v1/users/", body, format="json")
    assert response.status_code == 400
    assert field in response.data


# --- Teams -----------------------------------------------------------------------

def test_people_see_their_teams_and_staff_see_all(api, alice, charlie, sam):
    assert [t["slug"] for t in api.as_user(alice).get("/api/v1/teams/").data["results"]] == ["payments"]
    assert [t["slug"] for t in api.as_user(sam).get("/api/v1/teams/").data["results"]] == ["payments", "search"]


def test_a_team_is_read_by_slug(api, bob, payments):
    response = api.as_user(bob).get("/api/v1/teams/payments/")
    assert response.status_code == 200
    assert response.data["name"] == "Payments"
    assert response.data["timezone"] == "Europe/Berlin"


def test_outsider_gets_404_for_another_team_everywhere(api, charlie, alice, bob, payments):
    client = api.as_user(charlie)
    assert client.get("/api/v1/teams/payments/").status_code == 404
    assert client.patch("/api/v1/teams/payments/", {"name": "x"}, format="json").status_code == 404
    assert client.get("/api/v1/teams/payments/members/").status_code == 404
    assert client.post("/api/v1/teams/payments/members/", {"user": "charlie"}, format="json").status_code == 404
    assert client.delete("/api/v1/teams/payments/members/bob/").status_code == 404
    assert Membership.objects.filter(team=payments, user=bob).exists()
    assert not Membership.objects.filter(team=payments, user=charlie).exists()


def test_lead_changes_the_team(api, alice, payments):
    response = api.as_user(alice).patch("/api/v1/teams/payments/", {"name": "Payments EU", "timezone": "Europe/Paris"},
                                        format="json")
    assert response.status_code == 200, response.data
    payments.refresh_from_db()
    assert (payments.name, payments.timezone) == ("Payments EU", "Europe/Paris")


def test_member_may_not_change_the_team(api, bob, payments):
    response = api.as_user(bob).patch("/api/v1/teams/payments/", {"name": "Bob's team"}, format="json")
    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"
    payments.refresh_from_db()
    assert payments.name == "Payments"


def test_a_teams_slug_stays_fixed_and_a_bad_timezone_is_400(api, alice, payments):
    client = api.as_user(alice)
    assert client.patch("/api/v1/teams/payments/", {"slug": "money"}, format="json").data["slug"] == "payments"
    response = client.patch("/api/v1/teams/payments/", {"timezone": "Nowhere/Else"}, format="json")
    assert response.status_code == 400
    assert "timezone" in response.data


def test_staff_create_teams_with_a_slug_made_from_the_name(api, sam):
    response = api.as_user(sam).post("/api/v1/teams/", {"name": "Data Platform", "timezone": "UTC"}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["slug"] == "data-platform"
    assert Team.objects.filter(slug="data-platform").exists()


def test_non_staff_may_not_create_teams(api, alice):
    response = api.as_user(alice).post("/api/v1/teams/", {"name": "Rogue"}, format="json")
    assert response.status_code == 403
    assert not Team.objects.filter(name="Rogue").exists()


def test_a_duplicate_team_slug_is_400(api, sam, payments):
    response = api.as_user(sam).post("/api/v1/teams/", {"slug": "payments", "name": "Again"}, format="json")
    assert response.status_code == 400
    assert "slug" in response.data


# --- Members -----------------------------------------------------------------------

def test_members_are_listed_with_their_roles(api, alice, bob, payments):
    response = api.as_user(bob).get("/api/v1/teams/payments/members/")
    assert response.status_code == 200
    assert [(m["user"], m["role"]) for m in response.data["results"]] == [("alice", "lead"), ("bob", "member")]


def test_lead_adds_a_member_and_changes_their_role(api, alice, payments, charlie):
    client = api.as_user(alice)
    added = client.post("/api/v1/teams/payments/members/", {"user": "charlie"}, format="json")
    assert added.status_code == 201, added.data
    assert added.data["role"] == "member"
    promoted = client.post("/api/v1/teams/payments/members/", {"user": "charlie", "role": "manager"}, format="json")
    assert promoted.status_code == 200
    assert Membership.objects.get(team=payments, user=charlie).role == "manager"


def test_member_may_not_add_members(api, bob, payments, charlie):
    response = api.as_user(bob).post("/api/v1/teams/payments/members/", {"user": "charlie"}, format="json")
    assert response.status_code == 403
    assert not Membership.objects.filter(team=payments, user=charlie).exists()


def test_member_may_not_remove_members(api, bob, alice, payments):
    assert api.as_user(bob).delete("/api/v1/teams/payments/members/alice/").status_code == 403
    assert Membership.objects.filter(team=payments, user=alice).exists()


def test_lead_removes_a_member(api, alice, bob, payments):
    response = api.as_user(alice).delete("/api/v1/teams/payments/members/bob/")
    assert response.status_code == 204
    assert not Membership.objects.filter(team=payments, user=bob).exists()
    assert api.as_user(alice).delete("/api/v1/teams/payments/members/bob/").status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"user": "nobody"}, "user"),
    ({"user": "charlie", "role": "overlord"}, "role"),
    ({"role": "member"}, "user"),
])
def test_bad_member_input_is_400(api, alice, payments, charlie, body, field):
    response = api.as_user(alice).post("/api/v1/teams/payments/members/", body, format="json")
    assert response.status_code == 400
    assert field in response.data


def test_a_deactivated_person_cannot_be_added(api, alice, payments):
    UserFactory(username="gone", is_active=False)
    response = api.as_user(alice).post("/api/v1/teams/payments/members/", {"user": "gone"}, format="json")
    assert response.status_code == 400


# --- Query counts -----------------------------------------------------------------------

def _grow(n, team, start):
    for i in range(start, start + n):
        MembershipFactory(team=team, user=UserFactory(username=f"p{i:03d}"))
        MembershipFactory(team=TeamFactory(slug=f"t{i:03d}"), user=UserFactory(username=f"s{i:03d}"))


@pytest.mark.parametrize(("who", "path"), [
    ("alice", "/api/v1/users/"),
    ("sam", "/api/v1/users/"),
    ("sam", "/api/v1/teams/"),
    ("alice", "/api/v1/teams/payments/members/"),
])
def test_people_lists_run_the_same_number_of_queries_for_3_or_30_rows(
    api, alice, sam, payments, django_assert_max_num_queries, request, who, path
):
    client = api.as_user(request.getfixturevalue(who))
    _grow(3, payments, 0)
    with django_assert_max_num_queries(8) as few:
        assert client.get(path, {"page_size": 500}).status_code == 200
    _grow(27, payments, 3)
    with django_assert_max_num_queries(8) as many:
        response = client.get(path, {"page_size": 500})
    assert response.data["count"] >= 30
    assert len(many.captured_queries) == len(few.captured_queries)
