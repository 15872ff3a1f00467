"""Every setting is read once, in config/settings.py, from the environment; apps only read ``settings.X``."""

import ast
import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]
APPS = ["core", "oncall", "incidents", "alerts", "postmortems", "reporting", "demo"]
ONCALL = ("ONCALL_SHIFT_REMINDER_HOURS", "ONCALL_MONTHLY_LOAD_LIMIT_HOURS")


def _settings_with(monkeypatch, **env) -> dict:
    """config/settings.py run afresh with these environment variables (and no other ONCALL_ ones)."""
    for name in ONCALL:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "settings.py"))


def test_the_on_call_settings_come_from_the_environment_with_their_defaults(monkeypatch):
    default = _settings_with(monkeypatch)
    assert [default[name] for name in ONCALL] == [24.0, 168.0]
    given = _settings_with(monkeypatch, ONCALL_SHIFT_REMINDER_HOURS="1.5", ONCALL_MONTHLY_LOAD_LIMIT_HOURS="200")
    assert [given[name] for name in ONCALL] == [1.5, 200.0]


@pytest.mark.parametrize(("value", "message"), [
    ("a day", "ONCALL_SHIFT_REMINDER_HOURS='a day' is not a number"),
    ("nan", "ONCALL_SHIFT_REMINDER_HOURS='nan' is not a finite number"),
    ("-2", "ONCALL_SHIFT_REMINDER_HOURS='-2' is below 0"),
])
def test_an_on_call_setting_that_makes_no_sense_stops_start_up(monkeypatch, value, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        _settings_with(monkeypatch, ONCALL_SHIFT_REMINDER_HOURS=value)


def _reads_with_a_fallback(path: Path) -> list[str]:
    """``getattr(settings, "X", default)`` calls: a setting whose default lives away from settings.py."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "settings"):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_app_reads_a_setting_with_its_own_default():
    found = [hit for app in APPS for path in sorted((ROOT / app).rglob("*.py")) for hit in _reads_with_a_fallback(path)]
    assert found == [], "read these once in config/settings.py (with config.env), then use settings.NAME"
