"""The components editor (/comms/components/): leads change their team's status page; others read it."""

import pytest
from django.test import Client

from comms.models import Component
from comms.services import create_component
from incidents.services import post_status_update
from tests.factories import (
    MembershipFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
    make_incident,
)

pytestmark = pytest.mark.django_db

LIST = "/comms/components/"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_url(team) -> str:
    return f"/comms/components/{team.slug}/new/"


def edit_url(component) -> str:
    return f"/comms/components/{component.team.slug}/{component.pk}/"


def delete_url(component) -> str:
    return f"/comms/components/{component.team.slug}/{component.pk}/delete/"


def form_data(**fields) -> dict:
    data = {"name": "Checkout", "description": "", "position": "1", "status_override": "", "override_reason": ""}
    data.update(fields)
    return data


def test_a_lead_sees_her_teams_components_with_links_to_change_them(alice, checkout_component):
    html = client_for(alice).get(LIST).content.decode()
    assert "Payments" in html and "Checkout" in html and "Checkout API" in html
    assert 'href="/status/payments/"' in html
    assert f'href="{new_url(checkout_component.team)}"' in html
    assert f'href="{edit_url(checkout_component)}"' in html and f'href="{delete_url(checkout_component)}"' in html


def test_a_member_reads_the_list_but_may_not_change_anything(bob, checkout_component, checkout):
    client = client_for(bob)
    html = client.get(LIST).content.decode()
    assert "Checkout" in html and 'href="/status/payments/"' in html
    assert new_url(checkout_component.team) not in html and edit_url(checkout_component) not in html
    assert client.get(new_url(checkout_component.team)).status_code == 403
    assert client.get(edit_url(checkout_component)).status_code == 403
    assert client.post(new_url(checkout_component.team), form_data(name="Sneaky")).status_code == 403
    assert client.post(edit_url(checkout_component), form_data(name="Renamed")).status_code == 403
    assert client.post(delete_url(checkout_component)).status_code == 403
    assert list(Component.objects.values_list("name", flat=True)) == ["Checkout"]


def test_another_teams_components_do_not_exist_for_an_outsider(charlie, search_team, checkout_component):
    client = client_for(charlie)
    html = client.get(LIST).content.decode()
    assert "Search" in html and "Payments" not in html and "Checkout" not in html
    assert client.get(new_url(checkout_component.team)).status_code == 404
    assert client.get(edit_url(checkout_component)).status_code == 404
    assert client.post(delete_url(checkout_component)).status_code == 404
    # Even under his own team's address.
    assert client.get(f"/comms/components/search/{checkout_component.pk}/").status_code == 404
    assert Component.objects.filter(pk=checkout_component.pk).exists()


def test_a_lead_cannot_reach_another_teams_component_under_her_own_teams_address(alice, search_team):
    theirs = create_component(team=search_team, name="Search box", by=None)
    client = client_for(alice)
    assert client.get(f"/comms/components/payments/{theirs.pk}/").status_code == 404
    assert client.post(f"/comms/components/payments/{theirs.pk}/delete/").status_code == 404
    assert client.get(edit_url(theirs)).status_code == 404


def test_the_editor_needs_a_login(checkout_component):
    response = Client().get(LIST)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Client().post(new_url(checkout_component.team), form_data()).status_code == 302


def test_a_lead_adds_a_component_and_the_public_page_shows_it(alice, payments, checkout):
    client = client_for(alice)
    form = client.get(new_url(payments)).content.decode()
    assert 'name="csrfmiddlewaretoken"' in form and "Checkout API" in form
    response = client.post(new_url(payments), form_data(name="Card payments", description="Paying by card.",
                                                        services=[checkout.pk], position="3"))
    assert response.status_code == 302 and response["Location"] == "/comms/components/#team-payments"
    component = Component.objects.get()
    assert (component.name, component.position, list(component.services.all())) == ("Card payments", 3, [checkout])
    assert "Card payments" in client.get(response["Location"]).content.decode()  # with its message
    public = Client().get("/status/payments/").content.decode()
    assert "Card payments" in public and "Paying by card." in public


def test_the_services_offered_are_only_the_teams_own(alice, payments, search_team, checkout):
    ServiceFactory(slug="ranking", name="Ranking engine", team=search_team)
    client = client_for(alice)
    assert "Ranking engine" not in client.get(new_url(payments)).content.decode()
    foreign = ServiceFactory(slug="index", name="Index", team=search_team)
    response = client.post(new_url(payments), form_data(services=[foreign.pk]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Component.objects.exists()


def test_the_services_refusals_are_shown_on_their_fields(alice, payments):
    client = client_for(alice)
    response = client.post(new_url(payments), form_data(override_reason="Known issue upstream"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["override_reason"] == ["A reason only goes with a status set by hand; clear it."]
    response = client.post(new_url(payments), form_data(name="Two\nlines"))
    assert response.status_code == 200 and "name" in response.context["form"].errors
    response = client.post(new_url(payments), form_data(name="", position="-1", status_override="on_fire"))
    assert response.status_code == 200
    assert {"name", "position", "status_override"} <= set(response.context["form"].errors)
    response = client.post(new_url(payments), form_data(services=["nobody"]))
    assert response.status_code == 200 and "services" in response.context["form"].errors
    response = client.post(new_url(payments), form_data(position="9" * 20))  # past the column's range
    assert response.status_code == 200 and "position" in response.context["form"].errors
    assert client.post(new_url(payments), form_data(name="a\x00b")).status_code == 400
    assert not Component.objects.exists()


def test_a_lead_sets_a_status_by_hand_and_back_to_derived(alice, payments, checkout, checkout_component):
    client = client_for(alice)
    form = client.get(edit_url(checkout_component)).content.decode()
    assert 'value="Checkout"' in form
    response = client.post(edit_url(checkout_component), form_data(
        name="Checkout", services=[checkout.pk], status_override="major_outage",
        override_reason="Card network down"))
    assert response.status_code == 302
    assert "Major outage" in Client().get("/status/payments/").content.decode()
    html = client.get(LIST).content.decode()
    assert "Set by hand: Card network down. Derived: Operational." in html

    client.post(edit_url(checkout_component), form_data(name="Checkout", services=[checkout.pk]))
    checkout_component.refresh_from_db()
    assert (checkout_component.status_override, checkout_component.override_reason) == ("", "")
    assert "Major outage" not in Client().get("/status/payments/").content.decode()


def test_the_list_shows_the_status_derived_from_open_public_incidents(alice, payments, checkout, checkout_component):
    incident = make_incident(team=payments, by=alice, sev="SEV1", services=[checkout])
    client = client_for(alice)
    assert "Major outage" not in client.get(LIST).content.decode()  # not public yet
    post_status_update(incident=incident, state="investigating", body="Looking.", public=True, by=alice)
    row = client.get(LIST).content.decode().split(f'id="component-{checkout_component.pk}"')[1]
    assert "Major outage" in row.split("</tr>")[0]


def test_delete_asks_first_then_takes_the_component_off_the_page(alice, checkout_component):
    client = client_for(alice)
    confirm = client.get(delete_url(checkout_component))
    assert confirm.status_code == 200 and "Delete Checkout" in confirm.content.decode()
    assert Component.objects.exists()
    response = client.post(delete_url(checkout_component))
    assert response.status_code == 302
    assert not Component.objects.exists()
    assert "Checkout" not in Client().get("/status/payments/").content.decode().split("<main")[1]


def test_forms_need_their_csrf_token(alice, payments, checkout_component):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(new_url(payments), form_data(name="Forged")).status_code == 403
    assert client.post(delete_url(checkout_component)).status_code == 403
    assert list(Component.objects.values_list("name", flat=True)) == ["Checkout"]


def test_staff_see_and_change_every_team(sam, payments, search_team, checkout_component):
    html = client_for(sam).get(LIST).content.decode()
    assert "Payments" in html and "Search" in html
    assert f'href="{new_url(search_team)}"' in html and f'href="{edit_url(checkout_component)}"' in html


def test_a_person_in_no_team_is_told_so(db):
    html = client_for(UserFactory(username="nobody")).get(LIST).content.decode()
    assert "You are in no team yet" in html


def test_the_list_runs_a_constant_number_of_queries(alice, payments, django_assert_max_num_queries):
    def grow(n, tag):
        for i in range(n):
            team = TeamFactory(slug=f"team-{tag}-{i}")
            MembershipFactory(team=team, user=alice, role="lead" if i % 2 else "member")
            for j in range(2):
                service = ServiceFactory(slug=f"svc-{tag}-{i}-{j}", team=team)
                create_component(team=team, name=f"C {tag} {i} {j}", services=[service], by=None,
                                 status_override="partial_outage" if j else "", override_reason="x" if j else "")
                incident = make_incident(team=team, by=alice, sev="SEV3", services=[service])
                post_status_update(incident=incident, state="investigating", body="Looking.", public=True, by=alice)

    client = client_for(alice)
    grow(1, "a")
    client.get(LIST)  # the session and the user, loaded once per request, as on every page
    with django_assert_max_num_queries(10) as captured:  # 9 today: the session, the user, 7 reads
        assert client.get(LIST).status_code == 200
    one = len(captured)
    grow(6, "b")
    with django_assert_max_num_queries(one):
        html = client.get(LIST).content.decode()
    assert html.count("<tr id=") == 14
