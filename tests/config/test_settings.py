"""Settings come from the environment; production refuses to start without secrets."""

import os
import subprocess
import sys
from pathlib import Path

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


def test_production_settings_pass_the_deployment_checklist():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY="x7!Kq2#vLm9@Pz4$Rt8&Wn3*Yb6^Hc1(Jd5)Fg0-Se2+Ua7=Ix", ALLOWED_HOSTS="vigil.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


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
