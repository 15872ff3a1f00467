"""Schedules as YAML: export, import elsewhere, export again — identical; a no-op import writes nothing."""

import pytest
from django.core.exceptions import ValidationError

from oncall.models import Override, Rotation
from oncall.schedule_files import export_schedule
from oncall.services import create_override, import_schedule, set_participants
from tests.factories import MembershipFactory, TeamFactory
from tests.oncall.helpers import utc


@pytest.fixture
def schedule(make_rotation, alice, bob, nora):
    primary = make_rotation(name="Primary", participants=[alice, bob], handoff_at="2026-03-02T09:00")
    make_rotation(name="Business hours", layer="business", participants=[nora], shift_length="P1D",
                  handoff_at="2026-03-02T09:00", restrictions=[{"days": [0, 1, 2, 3, 4], "start": "09:00",
                                                                "end": "17:00"}])
    set_participants(rotation=primary, participants=[bob, nora], effective_from=utc(2026, 4, 1))
    create_override(rotation=primary, user=nora, start=utc(2026, 3, 3), end=utc(2026, 3, 6), reason="cover")
    create_override(rotation=primary, user=alice, start=utc(2026, 3, 4), end=utc(2026, 3, 5))
    return primary


def test_export_writes_local_hand_offs_and_dated_participant_lists(schedule):
    text = export_schedule(schedule.team)

    assert text.startswith("team: payments\nrotations:\n")
    assert "  shift_length: P7D\n  handoff_at: '2026-03-02T09:00:00'\n" in text
    assert "  - from: '2026-04-01T00:00:00+00:00'\n    users: [bob, nora]\n" in text


def test_round_trip_into_another_team_is_identical(schedule, alice, bob, nora):
    text = export_schedule(schedule.team)
    other = TeamFactory(slug="payments-eu", timezone="Europe/Berlin")
    for person in (alice, bob, nora):
        MembershipFactory(team=other, user=person)

    counts = import_schedule(team=other, text=text.replace("team: payments", "team: payments-eu"))

    assert counts == {"created": 2, "updated": 0, "participants": 1, "overrides": 1}
    assert export_schedule(other) == text.replace("team: payments", "team: payments-eu")


def test_importing_an_unchanged_file_changes_nothing(schedule):
    text = export_schedule(schedule.team)
    history = (Rotation.history.count(), Override.history.count())

    counts = import_schedule(team=schedule.team, text=text)

    assert counts == {"created": 0, "updated": 0, "participants": 0, "overrides": 0}
    assert (Rotation.history.count(), Override.history.count()) == history
    assert export_schedule(schedule.team) == text


def test_import_changes_only_what_differs(schedule):
    text = export_schedule(schedule.team).replace("shift_length: P7D", "shift_length: P14D")
    overrides_before = list(Override.objects.values_list("pk", flat=True))

    counts = import_schedule(team=schedule.team, text=text)

    assert counts == {"created": 0, "updated": 1, "participants": 0, "overrides": 0}
    schedule.refresh_from_db()
    assert schedule.shift_length == "P14D"
    assert list(Override.objects.values_list("pk", flat=True)) == overrides_before
    assert export_schedule(schedule.team) == text


def test_bad_files_say_what_to_fix(schedule):
    with pytest.raises(ValidationError, match="Not valid YAML"):
        import_schedule(team=schedule.team, text="rotations: [unclosed")
    with pytest.raises(ValidationError, match="Unknown users: zed"):
        import_schedule(team=schedule.team, text=export_schedule(schedule.team).replace("[bob, nora]", "[bob, zed]"))


def test_yaml_download_and_upload_pages(client, schedule, alice, bob):
    client.force_login(bob)
    text = client.get("/oncall/teams/payments/schedule.yaml").content.decode()
    assert text == export_schedule(schedule.team)
    assert client.post("/oncall/teams/payments/schedule.yaml", {"text": text}).status_code == 403

    client.force_login(alice)
    response = client.post("/oncall/teams/payments/schedule.yaml", {"text": text}, follow=True)
    assert "nothing changed" in response.content.decode()
