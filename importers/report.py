"""The import's report as text: counts per kind, every line, what did not come over, new keys, fidelity."""

from core.links import site_url

from .fidelity import Fidelity
from .services import ACTIONS, KINDS, Report

PLURALS = {"person": "people", "policy": "policies"}
TITLES = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie", "grafana-oncall": "Grafana OnCall"}


def render(report: Report, fidelity: Fidelity | None, *, url: str = "") -> str:
    title = TITLES.get(report.source, report.source)
    out = [f"{title} import — " + ("applied" if report.applied else
                                   "dry run: nothing was written; run again with --apply to write it")]
    if url:
        out.append(f"Read from {url}")
    counts = report.counts()
    out += ["", f"{'':18}" + "".join(f"{a:>8}" for a in ACTIONS)]
    out += [f"{kind:18}" + "".join(f"{counts[kind][a]:>8}" for a in ACTIONS) for kind in KINDS]
    for kind in KINDS:
        lines = [line for line in report.lines if line.kind == kind]
        if lines:
            out += ["", f"{PLURALS.get(kind, kind + 's').capitalize()}:"]
            out += [f"  {line.action:7} {line.name}" + (f" — {line.detail}" if line.detail else "") for line in lines]
    if report.issues:
        out += ["", f"Not brought over as it is ({len(report.issues)}):"]
        out += [f"  {i.kind} {i.name} [{i.source_id}]: {i.reason}" for i in report.issues]
    if report.keys:
        base = site_url()
        out += ["", "New integration keys — shown this once, store them now:"]
        out += [f"  {k.service} / {k.integration} ({k.kind}): {k.key}" for k in report.keys]
        out += ["", "Switch each sender by changing its URL and key (PagerDuty Events API v2):",
                f"  POST {base}/v2/enqueue  {{\"routing_key\": \"<key>\", \"event_action\": \"trigger\", ...}}",
                "  Alertmanager:  pagerduty_configs:",
                "                   - routing_key: <key>",
                f"                     url: {base}/v2/enqueue"]
    if report.errors:
        out += ["", "Errors:"] + [f"  {e}" for e in report.errors]
    if fidelity is not None:
        out += ["", f"Fidelity, {fidelity.since:%Y-%m-%d %H:%M} to {fidelity.until:%Y-%m-%d %H:%M} UTC: "
                    f"{len(fidelity.checked)} schedule(s) compared, {fidelity.minutes} minute(s) differ."]
        out += [f"  {n}" for n in fidelity.notes]
        out += [f"  {d.schedule}: {d.start:%Y-%m-%d %H:%M}–{d.end:%Y-%m-%d %H:%M} UTC ({d.minutes} min): Vigil "
                f"{', '.join(d.vigil) or 'nobody'}, {title} {', '.join(d.source) or 'nobody'}"
                for d in fidelity.differences]
    return "\n".join(out) + "\n"
