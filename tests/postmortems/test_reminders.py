"""The morning digest, with an injected clock: postmortems due within a day or overdue, and overdue action
items, to their owners and their team's leads, once per person per local day, in the person's 08:00 hour.

Kenji (payments, Asia/Tokyo) owns the postmortem; Nora (payments, America/New_York) owns an overdue action
item; alice leads payments (Europe/Berlin); bob is a member (UTC). The postmortem fixture's incident was
resolved at 2026-03-02 10:10 UTC, so its postmortem is due 2026-03-04 10:10 UTC.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from oncall.models import Membership
from paging.models import Notification
from postmortems.models import ReminderDigest
from postmortems.services import create_action_item, transition_postmortem, update_postmortem
from postmortems.services.reminders import due_digests, send_digest, send_reminders
from postmortems.tasks import send_reminders as send_reminders_task
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

DUE = datetime(2026, 3, 4, 10, 10, tzinfo=UTC)


def member(team, username, zone, role=Membership.Role.MEMBER):
    user = UserFactory(username=username, full_name=username.title(), timezone=zone)
    MembershipFactory(team=team, user=user, role=role)
    return user


@pytest.fixture
def kenji(payments):
    return member(payments, "kenji", "Asia/Tokyo")


@pytest.fixture
def nora(payments):
    return member(payments, "nora", "America/New_York")


@pytest.fixture
def owned_by_kenji(postmortem, kenji, bob):
    assert postmortem.due_at == DUE
    return update_postmortem(postmortem=postmortem, by=bob, version=postmortem.version, owner=kenji)


def overdue_item(incident, owner, by, title="Alert on card error rate", due_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC)):
    return create_action_item(incident=incident, by=by, title=title, owner=owner, due_at=due_at, priority="P1",
                              now=due_at - timedelta(days=1))


def digests_to(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=Notification.Kind.PM_REMINDER).order_by("id"))


def test_tokyo_gets_theirs_at_their_own_eight_not_before_and_not_twice(owned_by_kenji, kenji, deliver_queued,
                                                                        mailoutbox):
    # 08:00 in Tokyo on 4 March is 23:00 UTC on 3 March.
    assert send_reminders(now=datetime(2026, 3, 3, 22, 59, tzinfo=UTC)) == 0  # 07:59 there
    assert send_reminders(now=datetime(2026, 3, 3, 23, 0, tzinfo=UTC)) == 1
    assert send_reminders(now=datetime(2026, 3, 3, 23, 15, tzinfo=UTC)) == 0
    assert send_reminders(now=datetime(2026, 3, 3, 23, 59, tzinfo=UTC)) == 0
    assert [d.day.isoformat() for d in ReminderDigest.objects.filter(user=kenji)] == ["2026-03-04"]
    deliver_queued()
    (mail,) = mailoutbox
    incident = owned_by_kenji.incident
    assert mail.to == ["kenji@example.com"]
    assert mail.subject == "Postmortem reminders: 1 postmortem due within a day"
    assert "Times are in Asia/Tokyo" in mail.body
    assert f"{incident.number} (SEV1) {incident.title}: due Wed 4 Mar 19:10, in 11 h 10 min" in mail.body  # JST
    assert f"/postmortems/{owned_by_kenji.pk}/" in mail.body


def test_two_runs_that_read_the_same_morning_send_one_digest(owned_by_kenji, kenji):
    now = datetime(2026, 3, 3, 23, 0, tzinfo=UTC)
    (read_first,) = due_digests(now)  # one run has read, then another runs to the end before it sends
    assert send_reminders(now=now) == 1
    assert send_digest(read_first, now) is False  # its claim finds the day taken
    assert len(digests_to(kenji)) == 1


def test_new_york_gets_theirs_at_their_own_eight(resolved_sev1, nora, alice, deliver_queued, mailoutbox):
    item = overdue_item(resolved_sev1, nora, alice)
    # 08:00 in New York on 3 March (EST, UTC-5) is 13:00 UTC; alice (Berlin) leads, but it is 14:00 for her.
    assert send_reminders(now=datetime(2026, 3, 3, 12, 59, tzinfo=UTC)) == 0
    assert send_reminders(now=datetime(2026, 3, 3, 13, 0, tzinfo=UTC)) == 1
    assert send_reminders(now=datetime(2026, 3, 3, 13, 45, tzinfo=UTC)) == 0
    deliver_queued()
    (mail,) = mailoutbox
    assert mail.to == ["nora@example.com"] and mail.subject == "Postmortem reminders: 1 overdue action item"
    assert (f"- [P1] Alert on card error rate ({resolved_sev1.number}): due Sun 1 Mar 07:00, owner Nora"
            in mail.body)  # New York time
    assert f"/postmortems/action-items/{item.pk}/" in mail.body
    assert len(digests_to(nora)) == 1


def test_the_lead_gets_the_teams_overdue_items_and_postmortems(owned_by_kenji, alice, bob, nora, search_team,
                                                               deliver_queued, mailoutbox):
    incident = owned_by_kenji.incident
    overdue_item(incident, nora, alice, title="Add a circuit breaker")
    overdue_item(incident, bob, alice, title="Retry the card processor")
    other_lead = member(search_team, "olga", "Europe/Berlin", role=Membership.Role.LEAD)
    # 08:30 in Berlin on 4 March (CET) is 07:30 UTC: the postmortem is due within a day, both items overdue.
    assert send_reminders(now=datetime(2026, 3, 4, 7, 30, tzinfo=UTC)) == 1
    deliver_queued()
    (mail,) = mailoutbox
    assert mail.to == ["alice@example.com"]
    assert mail.subject == "Postmortem reminders: 1 postmortem due within a day, 2 overdue action items"
    assert "Add a circuit breaker" in mail.body and "owner Nora" in mail.body
    assert "Retry the card processor" in mail.body and "owner Bob Baker" in mail.body
    assert "owner Kenji" in mail.body and "due Wed 4 Mar 11:10, in 2 h 40 min" in mail.body  # Berlin time
    assert "as a lead of Payments" in mail.body
    assert digests_to(other_lead) == [] and digests_to(bob) == []  # bob's morning (UTC) is at 08:00 UTC
    assert send_reminders(now=datetime(2026, 3, 4, 8, 0, tzinfo=UTC)) == 1  # bob's own item
    assert len(digests_to(bob)) == 1


def test_an_owner_who_leads_gets_one_digest_naming_each_thing_once(resolved_sev1, alice, deliver_queued,
                                                                   mailoutbox):
    overdue_item(resolved_sev1, alice, alice)
    assert send_reminders(now=datetime(2026, 3, 3, 7, 0, tzinfo=UTC)) == 1  # 08:00 Berlin
    deliver_queued()
    (mail,) = mailoutbox
    assert mail.body.count("Alert on card error rate") == 1


def test_nothing_is_sent_when_nothing_is_due(postmortem, resolved_sev1, alice, bob, nora):
    overdue_item(resolved_sev1, nora, alice, due_at=datetime(2026, 3, 30, 12, 0, tzinfo=UTC))  # not yet due
    # The postmortem is due on 4 March 10:10 UTC: on 2 March at 08:00 everywhere, that is more than a day away.
    for hour in range(24):
        assert send_reminders(now=datetime(2026, 3, 2, hour, 0, tzinfo=UTC)) == 0
    assert not ReminderDigest.objects.exists()
    assert not Notification.objects.filter(kind=Notification.Kind.PM_REMINDER).exists()


def test_a_published_postmortem_and_a_done_item_are_not_reminded(postmortem, resolved_sev1, alice, bob):
    transition_postmortem(postmortem=postmortem, transition="submit", by=bob)
    transition_postmortem(postmortem=postmortem, transition="approve", by=alice)
    transition_postmortem(postmortem=postmortem, transition="publish", by=bob)
    assert send_reminders(now=datetime(2026, 3, 5, 8, 0, tzinfo=UTC)) == 0  # bob's morning, after the due date


def test_the_days_clocks_change_are_fine(resolved_sev1, nora, alice):
    overdue_item(resolved_sev1, nora, alice)
    # New York springs forward on 8 March 2026: 08:00 is 13:00 UTC on the 7th (EST), 12:00 UTC on the 8th (EDT).
    assert send_reminders(now=datetime(2026, 3, 7, 12, 0, tzinfo=UTC)) == 0  # 07:00 EST
    assert send_reminders(now=datetime(2026, 3, 7, 13, 0, tzinfo=UTC)) == 1
    assert send_reminders(now=datetime(2026, 3, 8, 11, 59, tzinfo=UTC)) == 0  # 07:59 EDT
    assert send_reminders(now=datetime(2026, 3, 8, 12, 0, tzinfo=UTC)) == 1
    assert send_reminders(now=datetime(2026, 3, 8, 13, 0, tzinfo=UTC)) == 0  # 09:00 EDT, and sent already
    # It falls back on 1 November: 08:00 EST is 13:00 UTC again, and 01:00-02:00 happening twice changes nothing.
    assert send_reminders(now=datetime(2026, 11, 1, 12, 0, tzinfo=UTC)) == 0  # 07:00 EST
    assert send_reminders(now=datetime(2026, 11, 1, 13, 0, tzinfo=UTC)) == 1
    days = sorted(d.day.isoformat() for d in ReminderDigest.objects.filter(user=nora))
    assert days == ["2026-03-07", "2026-03-08", "2026-11-01"]


def test_queries_grow_by_a_constant_per_person_not_per_item(resolved_sev1, payments, alice,
                                                            django_assert_max_num_queries):
    people = [member(payments, f"tokyo{n}", "Asia/Tokyo") for n in range(6)]
    for person in people:
        for n in range(5):
            overdue_item(resolved_sev1, person, alice, title=f"Item {n} of {person.username}")
    # Reading: 5 queries. Each digest: two savepoints and their releases, its claim, the contact method and
    # the notification.
    with django_assert_max_num_queries(5 + 7 * len(people)):
        assert send_reminders(now=datetime(2026, 3, 3, 23, 5, tzinfo=UTC)) == len(people)
    with django_assert_max_num_queries(5):
        assert send_reminders(now=datetime(2026, 3, 3, 23, 20, tzinfo=UTC)) == 0


def test_the_task_runs_the_service_and_beat_runs_it_every_quarter_hour(db):
    assert send_reminders_task() == 0
    entry = settings.CELERY_BEAT_SCHEDULE["postmortems-reminders"]
    assert entry["task"] == "postmortems.tasks.send_reminders" and entry["schedule"] == timedelta(minutes=15)
