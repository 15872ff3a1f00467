"""A lead adds ordinary people to their team; an administrator's username reads as unknown to them."""

import pytest
from django.core.exceptions import ValidationError

from oncall.models import Membership
from oncall.services import set_membership
from tests.factories import UserFactory


def _add(api, by, username):
    return api.as_user(by).post("/api/v1/teams/payments/members/", {"user": username}, format="json")


def test_a_lead_adds_an_ordinary_person(api, alice, payments):
    nora = UserFactory(username="nora")
    assert _add(api, alice, "nora").status_code == 201
    assert Membership.objects.filter(team=payments, user=nora).exists()


def test_a_lead_cannot_add_an_administrator_and_cannot_tell_one_exists(api, alice, sam, payments):
    staff = _add(api, alice, sam.username)
    unknown = _add(api, alice, "nobody-by-this-name")
    assert staff.status_code == unknown.status_code == 400
    strip = lambda body: body["detail"].replace(repr(sam.username), "X").replace(repr("nobody-by-this-name"), "X")  # noqa: E731
    assert strip(staff.json()) == strip(unknown.json())
    assert not Membership.objects.filter(team=payments, user=sam).exists()


def test_staff_may_add_an_administrator(api, sam, payments):
    other_admin = UserFactory(username="root2", is_staff=True)
    assert _add(api, sam, other_admin.username).status_code == 201


def test_the_service_refuses_a_lead_adding_an_administrator_whatever_the_caller(alice, sam, payments):
    with pytest.raises(ValidationError) as refused:
        set_membership(team=payments, user=sam, by=alice)
    assert "not an administrator" in str(refused.value)
