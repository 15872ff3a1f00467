"""Fixtures for the incident tests: one integration of each pushing kind on the checkout service.

Each carries its one-time key on ``.key``; the webhook also its URL on ``.url``.
"""

import pytest

from incidents.services import create_integration


def _integration(service, kind: str, name: str, by):
    integration, key = create_integration(service=service, kind=kind, name=name, by=by)
    integration.key = key
    return integration


@pytest.fixture
def events(checkout, alice):
    """An Events v2 integration."""
    return _integration(checkout, "events_v2", "Prometheus", alice)


@pytest.fixture
def am(checkout, alice):
    """An Alertmanager integration."""
    return _integration(checkout, "alertmanager", "Alertmanager", alice)


@pytest.fixture
def hook(checkout, alice):
    """A generic webhook integration; its endpoint is on ``.url``."""
    integration = _integration(checkout, "webhook", "Cron jobs", alice)
    integration.url = f"/api/v1/integrations/webhook/{integration.key}/"
    return integration
