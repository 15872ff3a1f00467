"""A schedule file of the wrong shape is refused naming the field to fix, and nothing is imported.

Each of these used to reach the services as it was and fail there (a 500):
a number where a list belongs, a participant set without ``from``, a user
that is not a name, a shift length YAML read as a number, a NUL character
(PostgreSQL text cannot hold one).
"""

import pytest
from django.core.exceptions import ValidationError

from oncall.models import Override, Rotation
from oncall.services import import_schedule

ROTATION = ("name: R, layer: primary, timezone: UTC, shift_length: P7D, handoff_at: '2026-03-02T09:00', "
            "participants: [{from: null, users: [alice]}]")


def _file(rotation: str = ROTATION, extra: str = "") -> str:
    return f"rotations:\n- {{{rotation}{extra}}}\n"


@pytest.mark.parametrize(("text", "message"), [
    (_file(ROTATION.replace("[{from: null, users: [alice]}]", "5")),
     "Rotation 'R': participants must be a list of {from, users} entries, not int 5."),
    (_file(ROTATION.replace("[{from: null, users: [alice]}]", "null")),
     "Rotation 'R': participants must be a list of {from, users} entries, not nothing (null)."),
    (_file(extra=", overrides: 5"), "Rotation 'R': overrides must be a list, not int 5."),
    (_file(ROTATION.replace("from: null, ", "")),
     "Rotation 'R': participants entry 1 needs 'from' (a date-time with offset, or null) "
     "and 'users' (a list of usernames)."),
    (_file(ROTATION.replace("[alice]", "[{a: 1}]")),
     "Rotation 'R': participants entry 1: each user must be text, not dict {'a': 1}."),
    (_file(ROTATION.replace("[alice]", "[1, nobody]")),
     "Rotation 'R': participants entry 1: each user must be text, not int 1."),
    (_file(ROTATION.replace("shift_length: P7D", "shift_length: 7")), "Rotation 'R': shift_length must be text, not int 7."),
    (_file(ROTATION.replace("name: R", "name: [a]")), "Rotation 1: name must be text, not list ['a']."),
    (_file(ROTATION.replace("handoff_at: '2026-03-02T09:00'", "handoff_at: [1]")),
     "Rotation 'R': handoff_at must be text, not list [1]."),
    (_file(extra=", overrides: [{user: alice, start: 5, end: '2026-01-01T00:00:00+00:00'}]"),
     "Rotation 'R': override 1 start must be text, not int 5."),
    (_file(ROTATION.replace("name: R", 'name: "a\\0b"')),
     "Rotation 1: name holds a NUL character (\\u0000) or an unpaired surrogate (\\ud800–\\udfff), "
     "which no text can store; remove it."),
    (_file(ROTATION.replace("[alice]", '["al\\0ice"]')),
     "Rotation 'R': participants entry 1: each user holds a NUL character"),
    (_file(extra=", overrides: [{user: alice, start: '2026-01-01T00:00:00+00:00', "
                 "end: '2026-01-02T00:00:00+00:00', reason: \"a\\0b\"}]"),
     "Rotation 'R': override 1 reason holds a NUL character"),
    (_file(ROTATION.replace("name: R", 'name: "\\ud800"')), "Rotation 1: name holds a NUL character"),
    ("rotations: " + "[" * 2000 + "]" * 2000, "Not valid YAML: it is nested too deeply."),
    ("rotations: [!!timestamp x]", "Not valid YAML"),
])
def test_a_file_of_the_wrong_shape_says_which_field(payments, alice, text, message):
    with pytest.raises(ValidationError) as refused:
        import_schedule(team=payments, text=text)

    assert refused.value.message_dict["file"][0].startswith(message)
    assert not Rotation.objects.exists() and not Override.objects.exists()


def test_the_import_page_shows_the_refusal(client, payments, alice):
    client.force_login(alice)

    response = client.post("/oncall/teams/payments/schedule.yaml", {"text": _file(extra=", overrides: 5")},
                           follow=True)

    assert response.status_code == 200
    assert "Rotation &#x27;R&#x27;: overrides must be a list, not int 5." in response.content.decode()
    assert not Rotation.objects.exists()


def test_a_well_shaped_file_with_yaml_dates_still_imports(payments, alice):
    # Unquoted, YAML reads these as a date-time and a date itself.
    text = _file(ROTATION.replace("'2026-03-02T09:00'", "2026-03-02 09:00:00"),
                 ", ends_at: 2027-01-01 00:00:00+00:00")

    assert import_schedule(team=payments, text=text)["created"] == 1
    rotation = Rotation.objects.get()
    assert rotation.first_handoff.isoformat() == "2026-03-02T09:00:00"
    assert rotation.ends_at.isoformat() == "2027-01-01T00:00:00+00:00"
