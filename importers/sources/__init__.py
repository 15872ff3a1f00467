"""Source adapters: each reads one tool's REST API (or a saved export of it) and maps it to
``importers.records``. An adapter module has ``NAME``, ``DEFAULT_URL``, ``fetch(*, token, url, now)``
(the raw responses, as one dict), ``save(raw, directory)``, ``load(directory)`` and ``to_export(raw)``.
Everything else (plan, apply, report, fidelity) is shared.
"""

from . import pagerduty

SOURCES = {pagerduty.NAME: pagerduty}
