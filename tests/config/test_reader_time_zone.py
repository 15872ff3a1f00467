"""One rule for times on pages: the reader's zone, labelled; the team's reading beside it where it differs.

``config.middleware.ReaderTimeZone`` activates the logged-in person's zone on
every page (not the API); ``{% when %}`` (``core.templatetags.when``) shows
an instant in it with its label.
"""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from tests.factories import make_incident

pytestmark = pytest.mark.django_db

NOON = datetime(2030, 1, 2, 12, 0, tzinfo=UTC)  # a Wednesday in winter: Berlin is UTC+1


def _when(instant, *args, zone="UTC"):
    source = "{% load when %}{% when instant " + " ".join(args) + " %}"
    with timezone.override(ZoneInfo(zone)):
        return Template(source).render(Context({"instant": instant}))


def test_an_instant_is_shown_in_the_reader_zone_with_its_label():
    assert _when(NOON, zone="Europe/Berlin") == (
        '<time datetime="2030-01-02T12:00:00+00:00">Wed 2 Jan 13:00 <span class="tz">Europe/Berlin</span></time>')


def test_the_team_reading_follows_where_its_clock_differs():
    html = _when(NOON, "'Europe/Berlin'", zone="UTC")

    assert "Wed 2 Jan 12:00 <span" in html and '<span class="tz">UTC</span>' in html
    assert html.endswith('<span class="team-time">(13:00 Europe/Berlin team time)</span>')


def test_the_team_reading_is_left_out_where_the_clocks_read_the_same():
    # Oslo and Berlin share their offset all year: nothing to add.
    assert "team time" not in _when(NOON, "'Europe/Oslo'", zone="Europe/Berlin")
    assert "team time" not in _when(NOON, "'Europe/Berlin'", zone="Europe/Berlin")


def test_the_team_reading_names_its_day_when_the_date_differs():
    html = _when(datetime(2030, 1, 2, 3, 0, tzinfo=UTC), "'America/New_York'", zone="Europe/Berlin")

    assert "Wed 2 Jan 04:00" in html and "(Tue 22:00 America/New_York team time)" in html


def test_pages_use_the_logged_in_reader_zone(client, alice, payments):
    incident = make_incident(team=payments, by=alice, now=NOON)
    client.force_login(alice)  # Europe/Berlin

    page = client.get(f"/incidents/{incident.number}/").content.decode()

    assert '2 Jan 2030 13:00 <span class="tz">Europe/Berlin</span>' in page


def test_the_api_answers_in_utc_whoever_asks(client, alice, payments):
    incident = make_incident(team=payments, by=alice, now=NOON)
    client.force_login(alice)  # a browser session, in Europe/Berlin

    body = client.get(f"/api/v1/incidents/{incident.number}/").json()

    assert body["created_at"] == "2030-01-02T12:00:00Z"


def test_incident_page_gives_the_team_time_to_a_reader_elsewhere(client, alice, bob, payments):
    incident = make_incident(team=payments, by=alice, now=NOON)
    bob.timezone = "America/New_York"
    bob.save(update_fields=["timezone"])
    client.force_login(bob)

    page = client.get(f"/incidents/{incident.number}/").content.decode()

    assert ('2 Jan 2030 07:00 <span class="tz">America/New_York</span></time> '
            '<span class="team-time">(13:00 Europe/Berlin team time)</span>') in page
    # The timeline: each event in the reader's zone, labelled.
    assert re.search(r'kind-created">\s*<time datetime="[^"]+">[^<]+<span class="tz">America/New_York</span>', page)
