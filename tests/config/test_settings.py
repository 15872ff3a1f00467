"""Settings come from the environment; production refuses to start without secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.process  # each test starts manage.py (or Python) with its own environment

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env},
        capture_output=True, text=True, timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "x7!Kq2#vLm9@Pz4$Rt8&Wn3*Yb6^Hc1(Jd5)Fg0-Se2+Ua7=Ix",
              "ALLOWED_HOSTS": "vigil.example.com"}


def test_production_settings_pass_the_deployment_checklist(tmp_path):
    collected = _manage("collectstatic", "--noinput", STATIC_ROOT=str(tmp_path), **PRODUCTION)
    assert collected.returncode == 0, collected.stderr
    result = _manage("check", "--deploy", "--fail-level", "WARNING", STATIC_ROOT=str(tmp_path), **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_before_collectstatic_naming_the_command(tmp_path):
    result = _manage("check", "--deploy", STATIC_ROOT=str(tmp_path / "empty"), **PRODUCTION)
    assert result.returncode != 0
    assert "vigil.E001" in result.stderr and "manage.py collectstatic --noinput" in result.stderr


def test_gunicorns_application_refuses_to_load_before_collectstatic(tmp_path):
    """gunicorn runs no system checks: the WSGI module itself refuses."""
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**base, **PRODUCTION, "STATIC_ROOT": str(tmp_path / "empty"), "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    assert result.returncode != 0
    assert "vigil.E001" in result.stderr and "collectstatic" in result.stderr


def test_forwarded_proto_is_ignored_unless_an_operator_trusts_the_proxy():
    shown = "from django.conf import settings; print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    direct = _manage("shell", "-c", shown, **PRODUCTION)
    proxied = _manage("shell", "-c", shown, TRUSTED_PROXY_HEADERS="1", **PRODUCTION)
    assert direct.stdout.strip().splitlines()[-1] == "None", direct.stderr
    assert proxied.stdout.strip().splitlines()[-1] == "('HTTP_X_FORWARDED_PROTO', 'https')", proxied.stderr


def test_a_misspelt_boolean_stops_the_process():
    result = _manage("check", DEBUG="flase")
    assert result.returncode != 0
    assert "DEBUG='flase' is not a boolean" in result.stderr


def test_a_bad_metrics_network_stops_start_up_with_the_entry_named():
    result = _manage("check", METRICS_ALLOWED_NETWORKS="10.0.0.0/8, intranet")
    assert result.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS: 'intranet' is not an IP network" in result.stderr


def test_a_heartbeat_check_interval_below_one_second_stops_start_up():
    result = _manage("check", HEARTBEAT_CHECK_SECONDS="0")
    assert result.returncode != 0
    assert "HEARTBEAT_CHECK_SECONDS='0' is below 1" in result.stderr
