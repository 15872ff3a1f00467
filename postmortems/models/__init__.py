from .action_item import ActionItem, ActionItemStatus, Priority
from .postmortem import (
    ContributingFactor,
    FactorTag,
    Postmortem,
    PostmortemEvent,
    PostmortemPolicy,
    PostmortemStatus,
    Review,
)

__all__ = [
    "ActionItem",
    "ActionItemStatus",
    "ContributingFactor",
    "FactorTag",
    "Postmortem",
    "PostmortemEvent",
    "PostmortemPolicy",
    "PostmortemStatus",
    "Priority",
    "Review",
]
