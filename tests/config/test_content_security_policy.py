"""Every page is sent with a Content-Security-Policy that allows no third-party origin and no inline script."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/accounts/login/", "/incidents/", "/oncall/", "/api/docs/", "/admin/"])
def test_pages_forbid_inline_scripts_and_other_origins(client, alice, sam, path):
    client.force_login(sam if path == "/admin/" else alice)
    response = client.get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    sources = " ".join(value for values in policy.values() for value in values)
    assert "http" not in sources and "*" not in sources


def test_the_api_docs_load_swagger_ui_from_vigil_not_a_cdn(client, alice):
    client.force_login(alice)
    page = client.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui-bundle.js" in a for a in assets)
    assert all(a.startswith("/") for a in assets), assets  # same origin, nothing fetched from elsewhere
    assert "<script>" not in page  # no inline script: the start-up script is a file of its own
    start_up = next(a for a in assets if "script" in a and "swagger" not in a)
    script = client.get(start_up)
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{template.relative_to(TEMPLATES)}: {match.group(0)}")
        for match in re.finditer(r"\son[a-z]+=\"", text):
            offenders.append(f"{template.relative_to(TEMPLATES)}: {match.group(0).strip()}")
    assert offenders == []
