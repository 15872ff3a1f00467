"""After answering a swap the browser returns to the page it came from, if that page is ours.

``next`` used to go to ``redirect()``, which treats a bare word as a URL
name: garbage was a 500 after the answer had been saved and emailed, and
``next=https://evil.example/`` sent people to another site.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from oncall.models import SwapRequest
from oncall.services import request_swap


@pytest.fixture
def swap(make_rotation, alice, bob, deliver_queued):
    rotation = make_rotation(name="Payments primary", participants=[alice, bob])
    now = timezone.now()
    swap = request_swap(rotation=rotation, requester=alice, recipient=bob, start=now + timedelta(days=3),
                        end=now + timedelta(days=4))
    deliver_queued()
    mail.outbox.clear()
    return swap


@pytest.mark.parametrize("target", ["garbage", "oncall-team", "javascript:alert(1)", "x" * 10_000,
                                    "https://evil.example/", "//evil.example/", "/\\evil.example/"],
                         ids=["garbage", "url-name", "javascript", "10k-chars", "other-site", "scheme-relative",
                              "backslash"])
def test_a_foreign_or_unreadable_next_goes_to_my_shifts(client, swap, bob, target, deliver_queued):
    client.force_login(bob)

    response = client.post(f"/oncall/swaps/{swap.pk}/decline/", {"next": target})

    assert response.status_code == 302
    assert response["Location"] == "/oncall/me/"
    swap.refresh_from_db()
    assert swap.status == SwapRequest.Status.DECLINED
    deliver_queued()
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]  # each their own
    assert "Swap declined." in client.get("/oncall/me/").content.decode()


def test_next_back_to_the_team_page_is_followed(client, swap, bob):
    client.force_login(bob)

    response = client.post(f"/oncall/swaps/{swap.pk}/accept/", {"next": "/oncall/teams/payments/"})

    assert response["Location"] == "/oncall/teams/payments/"


def test_without_next_the_answer_goes_to_my_shifts(client, swap, alice):
    client.force_login(alice)

    response = client.post(f"/oncall/swaps/{swap.pk}/cancel/")

    assert response["Location"] == "/oncall/me/"
    swap.refresh_from_db()
    assert swap.status == SwapRequest.Status.CANCELLED
