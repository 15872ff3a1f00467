import pytest

from comms.services import create_component
from tests.factories import ServiceFactory


@pytest.fixture
def gateway(payments):
    return ServiceFactory(slug="gateway", name="Gateway", team=payments)


@pytest.fixture
def checkout_component(payments, checkout):
    return create_component(team=payments, name="Checkout", services=[checkout], by=None, position=1)


@pytest.fixture
def gateway_component(payments, gateway):
    return create_component(team=payments, name="Card payments", services=[gateway], by=None, position=2)
