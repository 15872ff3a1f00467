"""``HistoricalRecords`` for every audited model of Vigil: simple-history's, with one cost removed.

simple-history's ``instance.history`` descriptor builds a new manager class
(``Manager.from_queryset``, which walks every QuerySet method with
``inspect.getmembers``) on each access — and it accesses it once for every
historical row it writes. That was about a fifth of the CPU time of opening
an incident from an alert. The class it builds depends only on the manager
and queryset classes, so it is built once per pair here.
"""

from functools import cache

from simple_history.manager import HistoryManager as _HistoryManager
from simple_history.models import HistoricalRecords as _HistoricalRecords


class HistoryManager(_HistoryManager):
    @classmethod
    def from_queryset(cls, queryset_class, class_name=None):
        return _manager_class(cls, queryset_class, class_name)


@cache
def _manager_class(cls, queryset_class, class_name):
    return super(HistoryManager, cls).from_queryset(queryset_class, class_name)


def HistoricalRecords(**options) -> _HistoricalRecords:  # noqa: N802 - stands in for the class
    options.setdefault("history_manager", HistoryManager)
    return _HistoricalRecords(**options)
