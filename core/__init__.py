"""Shared, non-domain helpers every app may use: no models, no imports of Vigil's apps.

- ``core.instants``: aware instants and the 1900–9000 range Vigil stores.
- ``core.text``: text no database can store (NUL, lone surrogates) and checked JSON.
- ``core.history``: ``HistoricalRecords`` for audited models.
- ``core.forms``: ``LocalDateTimeField`` and ``local_moment`` for browser forms.
"""
