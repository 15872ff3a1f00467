"""--save writes the API's answers to a directory; --from-file imports them where PagerDuty cannot be reached."""

import json

from oncall.models import Rotation
from tests.importers.pagerduty_fake import FakePagerDuty


def test_a_saved_export_imports_the_same_without_the_network(tmp_path, pagerduty, from_pagerduty, import_oncall):
    export = tmp_path / "pd-export"
    dry = from_pagerduty("--save", str(export))
    assert f"Saved the answers to {export}" in dry
    assert json.loads((export / "manifest.json").read_text())["source"] == "pagerduty"
    pagerduty.__exit__()  # PagerDuty is gone: the air-gapped site

    output = import_oncall("--from", "pagerduty", "--from-file", str(export), "--apply")

    assert Rotation.objects.count() == 7
    assert "4 schedule(s) compared, 0 minute(s) differ." in output


def test_an_old_export_says_how_much_can_still_be_compared(tmp_path, import_oncall):
    export = tmp_path / "pd-export"
    with FakePagerDuty() as server:
        import_oncall("--from", "pagerduty", "--url", server.url, "--token", "u+fakeReadOnlyKey1234",
                      "--save", str(export))

    output = import_oncall("--from", "pagerduty", "--from-file", str(export), "--apply",
                           "--now", "2027-03-22T12:00:00+00:00")

    assert "only 7 days, 0:00:00 of the next 28 days can be compared (save a fresh export)" in output
    assert "4 schedule(s) compared, 0 minute(s) differ." in output
