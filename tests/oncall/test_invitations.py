"""A person created without a password is invited by e-mail to set one, through a link that works once."""

import re

from django.core import mail

from oncall.models import User

LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")


def _invite(api, sam, django_capture_on_commit_callbacks, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(sam).post("/api/v1/users/", {
            "username": "nora", "email": "nora@example.com", "full_name": "Nora North", "timezone": "Europe/Oslo",
            **extra,
        }, format="json")
    assert response.status_code == 201, response.content
    return response


def test_a_person_created_through_the_api_is_invited_to_set_a_password(
        api, sam, client, django_capture_on_commit_callbacks):
    _invite(api, sam, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    invitation = mail.outbox[0]
    assert invitation.to == ["nora@example.com"]
    assert "nora" in invitation.body
    link = LINK.search(invitation.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and b"new_password1" in form_page.content
    done = client.post(form_page.redirect_chain[-1][0], {
        "new_password1": "a-long-fresh-passphrase", "new_password2": "a-long-fresh-passphrase"})
    assert done.status_code == 302
    assert User.objects.get(username="nora").check_password("a-long-fresh-passphrase")
    assert client.post("/accounts/login/", {"username": "nora", "password": "a-long-fresh-passphrase"}).status_code == 302


def test_the_invitation_link_works_only_once(api, sam, client, django_capture_on_commit_callbacks):
    _invite(api, sam, django_capture_on_commit_callbacks)
    link = LINK.search(mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(form_page.redirect_chain[-1][0], {
        "new_password1": "a-long-fresh-passphrase", "new_password2": "a-long-fresh-passphrase"})
    again = client.get(link, follow=True)
    assert b"new_password1" not in again.content


def test_the_invitation_link_expires(api, sam, client, settings, django_capture_on_commit_callbacks):
    _invite(api, sam, django_capture_on_commit_callbacks)
    link = LINK.search(mail.outbox[0].body).group(1)
    settings.PASSWORD_RESET_TIMEOUT = -1  # the link's days have passed
    assert b"new_password1" not in client.get(link, follow=True).content


def test_nobody_without_an_email_address_is_mailed(api, sam, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.as_user(sam).post("/api/v1/users/", {"username": "nomail"}, format="json")
    assert mail.outbox == []


def test_a_person_added_in_the_admin_without_a_password_is_invited(client, sam, django_capture_on_commit_callbacks):
    client.force_login(sam)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/oncall/user/add/", {
            "username": "olga", "email": "olga@example.com", "full_name": "Olga O", "timezone": "UTC",
            "usable_password": "false",
        })
    assert response.status_code == 302, response.content.decode()[:2000]
    olga = User.objects.get(username="olga")
    assert not olga.has_usable_password()
    assert [m.to for m in mail.outbox] == [["olga@example.com"]]
    assert LINK.search(mail.outbox[0].body)
