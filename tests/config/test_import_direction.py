"""Imports lean one way, as ARCHITECTURE.md draws them.

    reporting, chat → postmortems → comms → paging → alerts → incidents → oncall → core

An app may import any app to its right, never one to its left; ``reporting`` and ``chat``
don't import each other; ``core`` imports no Vigil app; nothing imports ``demo`` (it may
import every app) or ``tests``. ``config`` may import any app. An app may import from
``config`` only the framework glue listed in ``CONFIG_GLUE``, and only where that module's
own imports of Vigil apps would be allowed to the app itself, so no cycle goes through it.

Every ``.py`` file of every app is read with ``ast``, migrations included: imports at the top,
inside functions and under ``if TYPE_CHECKING:``, relative ones resolved, and
``importlib.import_module("…")`` with a literal name. A lower app that must let a higher one
react sends a signal or calls a hook the higher one registers (oncall.hooks is one).
"""

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Left to right as in ARCHITECTURE.md: an app may import only apps of a lower rank.
RANK = {
    "core": 0, "oncall": 1, "incidents": 2, "alerts": 3, "paging": 4, "comms": 5,
    "postmortems": 6, "reporting": 7, "chat": 7,  # same rank: they don't import each other
    "importers": 7,  # import_oncall writes through oncall, incidents, alerts and paging; nothing imports it
    "demo": 8,  # seed_demo may import every app; nothing imports it
}
NOBODY_IMPORTS = {"demo", "tests"}

# What of config an app may import, and why. Anything else (config.settings: use
# django.conf.settings; config.urls, config.celery: apps use shared_task) is refused.
CONFIG_GLUE = {
    "config.api": "the API conventions every app's API shares: pagination, the error shape, Conflict (409)",
    "config.parsers": "the JSON parser DRF is configured with, refusing what no database can store",
    "config.env": "typed readers of environment variables, for an app's own settings",
    "config.observability": "Vigil's own Prometheus metrics, which an ingest view records itself",
}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    statement: str
    module: str  # absolute, dotted


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(path: Path, root: Path) -> str:
    name = _module_name(path, root)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports_of(path: Path, root: Path = ROOT) -> list[Import]:
    """Every module ``path`` imports, wherever in the file, relative names made absolute."""
    source = path.read_text()
    found = []

    def add(node, module):
        statement = " ".join((ast.get_source_segment(source, node) or "").split())
        found.append(Import(path.relative_to(root), node.lineno, statement, module))

    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package(path, root).split(".")
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module
            # `from . import views`, `from config import api`: the name may be a submodule, so
            # check module.name (an attribute instead changes nothing: the check reads packages).
            for alias in node.names:
                add(node, f"{module}.{alias.name}" if alias.name != "*" else module)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            add(node, node.args[0].value)
    return found


def _config_module(module: str) -> str:
    return ".".join(module.split(".")[:2])


def why_refused(app: str, module: str, root: Path = ROOT) -> str | None:
    """Why ``app`` may not import ``module``, or None when it may."""
    target = module.split(".")[0]
    if target == app:
        return None
    if target in NOBODY_IMPORTS:
        return f"nothing imports {target}"
    if target == "config":
        if app == "config":
            return None
        glue = _config_module(module)
        if glue not in CONFIG_GLUE:
            allowed = ", ".join(sorted(CONFIG_GLUE))
            return f"an app imports from config only its framework glue ({allowed})"
        glue_path = root / Path(*glue.split("."))
        glue_file = glue_path / "__init__.py" if glue_path.is_dir() else glue_path.with_suffix(".py")
        for inner in imports_of(glue_file, root):
            reason = why_refused(app, inner.module, root)
            if reason and inner.module.split(".")[0] != "config":
                return f"{glue} has `{inner.statement}` ({inner.path}:{inner.line}), and {reason}"
        return None
    if target not in RANK or app == "config":
        return None  # Django, libraries, the standard library; config may import any app
    if app == "core":
        return "core imports no Vigil app"
    if RANK[target] == RANK[app]:
        return f"{app} and {target} don't import each other"
    if RANK[target] > RANK[app]:
        return (f"{target} is to the left of {app} "
                "(reporting, chat → postmortems → comms → paging → alerts → incidents → oncall → core); "
                "send a signal or register a hook instead")
    return None


def violations(root: Path = ROOT) -> list[str]:
    found = []
    for app in [*RANK, "config"]:
        if not (root / app).is_dir():
            continue
        for path in sorted((root / app).rglob("*.py")):
            for imported in imports_of(path, root):
                reason = why_refused(app, imported.module, root)
                message = f"{imported.path}:{imported.line}: `{imported.statement}`: {reason}"
                if reason and message not in found:  # once for `from x import a, b`
                    found.append(message)
    return found


def test_apps_import_only_apps_to_their_right():
    found = violations()
    assert not found, "Imports against ARCHITECTURE.md's direction:\n" + "\n".join(found)


def test_every_app_of_the_order_that_exists_is_read():
    # A renamed or new app must join RANK, or this test would silently skip it.
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert apps - set(RANK) == set(), "add the new app to RANK in the order ARCHITECTURE.md gives"


def test_the_check_sees_relative_imports_and_imports_inside_functions(tmp_path):
    (tmp_path / "oncall" / "services").mkdir(parents=True)
    (tmp_path / "oncall" / "__init__.py").write_text("")
    (tmp_path / "oncall" / "services" / "__init__.py").write_text("")
    (tmp_path / "oncall" / "services" / "people.py").write_text(
        "from ..models import Team\n"
        "from . import schedules\n"
        "\n"
        "def page():\n"
        "    from incidents.models import (\n"
        "        Incident,\n"
        "    )\n"
        "    import importlib\n"
        "    return importlib.import_module('alerts.tasks')\n"
    )
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "text.py").write_text("import oncall.models\nfrom config.settings import DEBUG\n")

    found = violations(tmp_path)

    assert found == [
        "core/text.py:1: `import oncall.models`: core imports no Vigil app",
        "core/text.py:2: `from config.settings import DEBUG`: an app imports from config only its framework glue "
        "(config.api, config.env, config.observability, config.parsers)",
        "oncall/services/people.py:5: `from incidents.models import ( Incident, )`: incidents is to the left of "
        "oncall (reporting, chat → postmortems → comms → paging → alerts → incidents → oncall → core); "
        "send a signal or register a hook instead",
        "oncall/services/people.py:9: `importlib.import_module('alerts.tasks')`: alerts is to the left of "
        "oncall (reporting, chat → postmortems → comms → paging → alerts → incidents → oncall → core); "
        "send a signal or register a hook instead",
    ]


def test_config_glue_that_leans_on_a_higher_app_is_refused_to_a_lower_one(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "observability.py").write_text("from incidents.queries import open_incidents\n")
    (tmp_path / "oncall").mkdir()
    (tmp_path / "oncall" / "metrics.py").write_text("from config.observability import REQUEST_LATENCY\n")
    (tmp_path / "alerts").mkdir()
    (tmp_path / "alerts" / "views.py").write_text("from config.observability import REQUEST_LATENCY\n")

    assert violations(tmp_path) == [
        "oncall/metrics.py:1: `from config.observability import REQUEST_LATENCY`: config.observability has "
        "`from incidents.queries import open_incidents` (config/observability.py:1), and incidents is to the left "
        "of oncall "
        "(reporting, chat → postmortems → comms → paging → alerts → incidents → oncall → core); "
        "send a signal or register a hook instead",
    ]
