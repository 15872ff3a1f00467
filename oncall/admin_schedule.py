"""Admin for schedules (rotations and overrides with history). Imported by ``oncall/admin.py``.

The admin is for looking and fixing by hand; the schedule itself is computed
by ``oncall.schedule`` from these rows.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .admin_widgets import SafeAutocompleteMixin
from .models import (
    CalendarToken,
    HandoffNote,
    HandoffNotice,
    Override,
    Rotation,
    RotationParticipant,
    ShiftReminder,
    SwapRequest,
)


class ParticipantInline(SafeAutocompleteMixin, admin.TabularInline):
    model = RotationParticipant
    extra = 0
    autocomplete_fields = ["user"]
    ordering = ["effective_from", "position"]


@admin.register(Rotation)
class RotationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "team", "layer", "shift_length", "handoff_date", "handoff_time", "timezone", "ends_at"]
    list_filter = ["layer", "team"]
    list_select_related = ["team"]
    search_fields = ["name", "team__name", "team__slug"]
    inlines = [ParticipantInline]


@admin.register(RotationParticipant)
class RotationParticipantAdmin(SafeAutocompleteMixin, admin.ModelAdmin):
    list_display = ["rotation", "position", "user", "effective_from"]
    list_select_related = ["rotation__team", "user"]
    autocomplete_fields = ["user"]


@admin.register(Override)
class OverrideAdmin(SafeAutocompleteMixin, SimpleHistoryAdmin):
    list_display = ["rotation", "user", "start_at", "end_at", "reason", "created_at"]
    list_select_related = ["rotation__team", "user"]
    list_filter = ["rotation__team"]
    autocomplete_fields = ["user"]


@admin.register(SwapRequest)
class SwapRequestAdmin(admin.ModelAdmin):
    list_display = ["rotation", "requester", "recipient", "start_at", "end_at", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["rotation__team", "requester", "recipient"]


@admin.register(CalendarToken)
class CalendarTokenAdmin(admin.ModelAdmin):
    list_display = ["__str__", "created_at", "rotated_at"]
    exclude = ["token"]  # a secret: rotate it from the on-call pages instead of reading it here


@admin.register(HandoffNote)
class HandoffNoteAdmin(admin.ModelAdmin):
    list_display = ["rotation", "author", "handoff_at", "created_at"]
    list_select_related = ["rotation__team", "author"]


@admin.register(HandoffNotice)
class HandoffNoticeAdmin(admin.ModelAdmin):
    list_display = ["rotation", "handoff_at", "outgoing", "incoming", "sent_at"]
    list_select_related = ["rotation__team", "outgoing", "incoming"]


@admin.register(ShiftReminder)
class ShiftReminderAdmin(admin.ModelAdmin):
    list_display = ["rotation", "user", "shift_start_at", "sent_at"]
    list_select_related = ["rotation__team", "user"]
