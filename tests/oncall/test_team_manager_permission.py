"""One rule decides who may manage a team: ``oncall.permissions.can_manage_team``.

Pages, API views and services of every app ask it (through ``require_team_manager`` when
they refuse), so bob, a member, is refused the same way everywhere, and a manager is let in
wherever a lead is.
"""

import ast
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from alerts.services import create_integration
from incidents.services import create_maintenance_window, create_service, update_service
from oncall.models import Membership
from oncall.permissions import can_manage_team
from oncall.services import create_rotation, set_membership, update_team
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
APPS = ["core", "oncall", "incidents", "alerts", "postmortems", "reporting", "demo"]
REFUSED = "Only the leads and managers of team payments may "
ROTATION = {
    "team": "payments", "name": "Payments primary", "layer": "primary", "participants": ["alice", "bob"],
    "shift_length": "P7D", "handoff_at": "2026-03-02T09:00:00", "timezone": "Europe/Berlin",
}


@pytest.fixture
def erik(payments):
    """The payments manager: not a lead, and every bit as entitled."""
    user = UserFactory(username="erik", full_name="Erik Eriksen")
    MembershipFactory(team=payments, user=user, role=Membership.Role.MANAGER)
    return user


def _api_refusals(api, user) -> dict:
    client = api.as_user(user)
    soon = timezone.now() + timedelta(days=1)
    return {
        "service": client.patch("/api/v1/services/checkout/", {"name": "Checkout"}, format="json"),
        "new service": client.post("/api/v1/services/", {"slug": "ledger", "name": "Ledger", "team": "payments"},
                                   format="json"),
        "team": client.patch("/api/v1/teams/payments/", {"name": "Payments"}, format="json"),
        "members": client.post("/api/v1/teams/payments/members/", {"user": "bob", "role": "lead"}, format="json"),
        "rotation": client.post("/api/v1/rotations/", ROTATION, format="json"),
        "maintenance": client.post("/api/v1/maintenance-windows/", {
            "service": "checkout", "starts_at": soon.isoformat(), "ends_at": (soon + timedelta(hours=1)).isoformat(),
        }, format="json"),
        "integration": client.post("/api/v1/integrations/", {"service": "checkout", "kind": "webhook", "name": "W"},
                                   format="json"),
    }


def test_a_member_is_refused_by_the_same_rule_on_every_page(client, bob, checkout):
    client.force_login(bob)
    responses = {
        "rotation form": client.get("/oncall/teams/payments/rotations/new/"),
        "integrations": client.post("/services/checkout/integrations/", {"action": "create", "name": "W"}),
    }
    for name, response in responses.items():
        assert response.status_code == 403, name
        assert REFUSED in response.content.decode().replace("&#x27;", "'"), name


def test_a_member_is_refused_by_the_same_rule_in_every_api_view(api, bob, alice, checkout):
    for name, response in _api_refusals(api, bob).items():
        assert response.status_code == 403, (name, response.content)
        assert response.json()["detail"].startswith(REFUSED), (name, response.json())


def test_a_member_is_refused_by_the_same_rule_in_every_service(bob, alice, payments, checkout):
    soon = timezone.now() + timedelta(days=1)
    writes = {
        "create_service": lambda: create_service(slug="ledger", name="Ledger", team=payments, by=bob),
        "update_service": lambda: update_service(service=checkout, by=bob, name="Checkout"),
        "update_team": lambda: update_team(team=payments, by=bob, name="Payments"),
        "set_membership": lambda: set_membership(team=payments, user=bob, role="lead", by=bob),
        "create_rotation": lambda: create_rotation(
            team=payments, name="R", participants=[alice], shift_length="P7D",
            handoff_at=datetime(2026, 3, 2, 9), timezone="Europe/Berlin", by=bob),
        "create_maintenance_window": lambda: create_maintenance_window(
            service=checkout, starts_at=soon, ends_at=soon + timedelta(hours=1), by=bob),
        "create_integration": lambda: create_integration(service=checkout, kind="webhook", name="W", by=bob),
    }
    for name, write in writes.items():
        with pytest.raises(PermissionDenied) as refused:
            write()
        assert str(refused.value).startswith(REFUSED), name


def test_a_manager_may_do_everything_a_lead_may(api, erik, alice, bob, checkout, payments):
    assert can_manage_team(erik, payments)
    for name, response in _api_refusals(api, erik).items():
        assert response.status_code in (200, 201), (name, response.content)


def _decides_who_manages(path: Path) -> list[str]:
    """Places outside oncall/permissions.py that read the lead/manager roles, or name a manage check of their own."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute) and node.attr in ("LEAD", "MANAGER"):
            found.append(f"{where} reads Role.{node.attr}")
        elif isinstance(node, ast.keyword) and node.arg and node.arg.endswith("role__in"):
            found.append(f"{where} filters on {node.arg}")
        elif isinstance(node, ast.FunctionDef) and "manage" in node.name.replace("alertmanager", "") \
                and "manager_class" not in node.name:
            found.append(f"{where} defines {node.name}()")
    return found


def test_no_module_but_oncall_permissions_decides_who_manages_a_team():
    rule = ROOT / "oncall" / "permissions.py"
    found = [hit for app in APPS for path in sorted((ROOT / app).rglob("*.py"))
             if path != rule and "migrations" not in path.parts for hit in _decides_who_manages(path)]
    assert found == [], "ask oncall.permissions.can_manage_team / require_team_manager instead"
