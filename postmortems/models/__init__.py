from .action_item import ActionItem, ActionItemStatus, Priority
from .meeting import ReviewMeeting
from .postmortem import (
    ContributingFactor,
    FactorTag,
    Postmortem,
    PostmortemEvent,
    PostmortemPolicy,
    PostmortemStatus,
    Review,
)
from .reminder import ReminderDigest
from .tracker import IssueTracker, TrackerKind

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
    "ReminderDigest",
    "Review",
    "ReviewMeeting",
    "IssueTracker",
    "TrackerKind",
]
