"""A bad token, a wrong URL or a broken export stops the command with a message saying what to fix."""

import socket

import pytest
from django.core.management import CommandError

from oncall.models import User
from tests.fakes import Answer, FakeHTTPServer


def test_a_bad_token_is_refused_with_where_a_good_one_comes_from(pagerduty, import_oncall):
    with pytest.raises(CommandError) as refused:
        import_oncall("--from", "pagerduty", "--url", pagerduty.url, "--token", "an-integration-routing-key")

    assert str(refused.value) == (
        f"PagerDuty at {pagerduty.url} refused the token (401 Unauthorized): give a REST API key (PagerDuty: "
        "Integrations → API Access Keys, read-only is enough), not an integration's routing key.")
    assert "an-integration-routing-key" not in str(refused.value)
    assert pagerduty.requests[0][1] == "Token token=an-integration-routing-key"
    assert User.objects.count() == 0


def test_a_url_where_nothing_listens_is_named(import_oncall):
    with socket.socket() as probe:  # a free port, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(CommandError, match=rf"Could not reach PagerDuty at http://127.0.0.1:{port}: .* Check --url"):
        import_oncall("--from", "pagerduty", "--url", f"http://127.0.0.1:{port}", "--token", "t")


def test_a_web_page_instead_of_the_api_is_named(import_oncall):
    with FakeHTTPServer(Answer(200, "<html>PagerDuty</html>")) as server:
        with pytest.raises(CommandError, match=r"did not answer /users with JSON: is --url the PagerDuty REST API"):
            import_oncall("--from", "pagerduty", "--url", server.url, "--token", "t")


def test_a_url_that_is_not_http_is_refused(import_oncall):
    with pytest.raises(CommandError, match=r"'api.pagerduty.com' is not an http\(s\) URL"):
        import_oncall("--from", "pagerduty", "--url", "api.pagerduty.com", "--token", "t")


def test_no_token_and_no_file_is_refused(import_oncall):
    with pytest.raises(CommandError, match=r"Give --token \(the tool's REST API key\), or --from-file DIR"):
        import_oncall("--from", "pagerduty")


def test_a_directory_that_is_not_an_export_is_refused(import_oncall, tmp_path):
    with pytest.raises(CommandError, match=r"manifest.json is missing: give a directory written by --save"):
        import_oncall("--from", "pagerduty", "--from-file", str(tmp_path))
