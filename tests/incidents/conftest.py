"""Fixtures for the incident tests."""

import pytest

from incidents.services import create_integration


@pytest.fixture
def events(checkout, alice):
    """An Events v2 integration on the checkout service; its one-time key is on ``.key``."""
    integration, key = create_integration(service=checkout, kind="events_v2", name="Prometheus", by=alice)
    integration.key = key
    return integration
