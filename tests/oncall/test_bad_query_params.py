"""Digits that are not ASCII ("²" passes str.isdigit but not int()) are bad input, not a 500."""

import pytest


@pytest.fixture
def rotation(make_rotation, alice, bob):
    return make_rotation(name="Payments primary", participants=[alice, bob])


def test_overrides_filtered_by_a_superscript_rotation_id_is_a_400(api, rotation, bob):
    response = api.as_user(bob).get("/api/v1/overrides/", {"rotation": "²"})

    assert response.status_code == 400
    assert response.json()["rotation"] == "Give a rotation id."


def test_overrides_filtered_by_a_rotation_id_still_work(api, rotation, bob):
    assert api.as_user(bob).get("/api/v1/overrides/", {"rotation": str(rotation.pk)}).status_code == 200


@pytest.mark.parametrize("url", ["/oncall/teams/payments/load/", "/oncall/teams/payments/load.csv"])
def test_load_report_for_superscript_months_shows_the_default_three(client, rotation, bob, url):
    client.force_login(bob)

    response = client.get(url, {"from": "2026-03", "months": "²"})

    assert response.status_code == 200
    if url.endswith("/"):
        assert response.context["months"] == 3
    else:
        months = {line.split(",")[0] for line in response.content.decode().splitlines()[1:]}
        assert months == {"2026-03", "2026-04", "2026-05"}
