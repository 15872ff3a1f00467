"""Repeated wrong passwords lock an account and an address out; the API throttles per caller."""

import pytest
from axes.models import AccessAttempt
from rest_framework.authtoken.models import Token

WRONG = "not-the-password"
RIGHT = "correct-horse-battery"  # tests.factories.UserFactory's


def _log_in(client, url, username, password, address="203.0.113.7"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_the_right_password_is_refused_after_repeated_wrong_ones(client, settings, alice, sam, url):
    settings.AXES_FAILURE_LIMIT = 5
    user = sam if url.startswith("/admin/") else alice
    for _ in range(4):
        assert _log_in(client, url, user.username, WRONG).status_code == 200  # the form again, with its error
    assert _log_in(client, url, user.username, WRONG).status_code == 429  # the fifth locks
    locked = _log_in(client, url, user.username, RIGHT)
    assert locked.status_code == 429
    assert b"Too many failed log-ins" in locked.content and b"Try again in 15 minutes" in locked.content
    assert "_auth_user_id" not in client.session


def test_the_account_stays_locked_from_another_address(client, settings, alice):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        _log_in(client, "/accounts/login/", alice.username, WRONG, address="203.0.113.7")
    assert _log_in(client, "/accounts/login/", alice.username, RIGHT, address="198.51.100.9").status_code == 429


def test_an_address_guessing_many_accounts_is_locked_out(client, settings, alice, bob):
    settings.AXES_FAILURE_LIMIT = 3
    for name in ["nobody1", "nobody2", "nobody3"]:
        _log_in(client, "/accounts/login/", name, WRONG)
    assert _log_in(client, "/accounts/login/", bob.username, RIGHT).status_code == 429
    # Bob, from his own address, is not affected.
    assert _log_in(client, "/accounts/login/", bob.username, RIGHT, address="198.51.100.9").status_code == 302


def test_staff_see_the_lockout_and_lifting_it_lets_the_person_in(client, settings, alice, sam):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        _log_in(client, "/accounts/login/", alice.username, WRONG)
    admin = type(client)()
    admin.force_login(sam)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and alice.username.encode() in listing.content
    AccessAttempt.objects.filter(username=alice.username).delete()  # what the admin's delete action does
    assert _log_in(client, "/accounts/login/", alice.username, RIGHT).status_code == 302


def test_the_lockout_lifts_by_itself_after_the_cool_off(client, settings, alice):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        _log_in(client, "/accounts/login/", alice.username, WRONG)
    assert _log_in(client, "/accounts/login/", alice.username, RIGHT).status_code == 429
    AccessAttempt.objects.update(attempt_time="2000-01-01T00:00:00Z")  # the cool-off has passed
    assert _log_in(client, "/accounts/login/", alice.username, RIGHT).status_code == 302


def test_a_good_login_below_the_limit_resets_the_count(client, settings, alice):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        _log_in(client, "/accounts/login/", alice.username, WRONG)
    assert _log_in(client, "/accounts/login/", alice.username, RIGHT).status_code == 302
    client.logout()
    for _ in range(2):
        _log_in(client, "/accounts/login/", alice.username, WRONG)
    assert _log_in(client, "/accounts/login/", alice.username, RIGHT).status_code == 302


def test_the_api_answers_429_with_retry_after_past_a_users_rate(settings, api, alice):
    settings.API_THROTTLE_USER = "3/minute"
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")
    answers = [api.get("/api/v1/incidents/") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert answers[-1].json()["code"] == "throttled"
    assert "try again in" in answers[-1].json()["detail"]


def test_anonymous_api_callers_are_throttled_by_address(settings, api):
    settings.API_THROTTLE_ANON = "2/minute"
    codes = [api.get("/api/schema/", REMOTE_ADDR="203.0.113.50").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert api.get("/api/schema/", REMOTE_ADDR="203.0.113.51").status_code == 200
