"""End-to-end tests drive Debian's Chromium through Playwright against pytest-django's live server.

Playwright's sync API keeps an asyncio loop running in the main thread from the
moment it starts until the session ends, and Django refuses synchronous ORM
calls while a loop runs. These tests (and the database set-up and flushes
around them) only touch the database between Playwright calls, so
DJANGO_ALLOW_ASYNC_UNSAFE is set from when Playwright starts. It is not set at
import time: set for the whole session it would also reach tests that run
before, and the subprocesses they start, where `check --deploy` rightly objects.
"""

import os
import re

import pytest
from playwright.sync_api import Page, expect


@pytest.fixture(scope="session")
def _orm_beside_playwright():
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def playwright(_orm_beside_playwright, playwright):
    # pytest-playwright's own fixture, started only once the ORM guard is lifted.
    return playwright


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Never download a browser: use the system Chromium, without sandbox or background traffic.
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


@pytest.fixture
def log_in(live_server):
    """log_in(page, username, path="/incidents/"): open ``path``, sign in on the login page it sends you to, land back."""

    def go(page: Page, username: str, path: str = "/incidents/") -> None:
        page.goto(f"{live_server.url}{path}")
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("correct-horse-battery")
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(f"{live_server.url}{path}")

    return go
