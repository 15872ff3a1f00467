"""Admin for schedules: for looking, and for fixing by hand through the services.

The schedule itself is computed by ``oncall.schedule`` from these rows. A
rotation's settings change through ``update_rotation`` (its history says who
and why); rotations are created with their participants on the team page, the
API or a schedule file, and their participants change there too (from a
moment on). Overrides are added and removed through ``create_override`` and
``delete_override``. Swaps are decided by the people asked (accepting one
creates its override), so they, like calendar tokens, hand-off notes and the
rows that keep e-mails from going twice, are read-only here.
"""

from datetime import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from core.admin import (
    HistoryAdmin,
    NoDeleteMixin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    adopt,
    service_call,
)

from .. import services
from ..models import (
    CalendarToken,
    HandoffNote,
    HandoffNotice,
    Override,
    Rotation,
    RotationParticipant,
    ShiftReminder,
    SwapRequest,
)
from ..models.schedule import format_shift_length
from .widgets import SafeAutocompleteMixin

# Rotation form fields as update_rotation names them: a shift length and a first hand-off each take two.
_ROTATION_FIELDS = {"name": "name", "layer": "layer", "timezone": "timezone", "ends_at": "ends_at",
                    "restrictions": "restrictions", "shift_count": "shift_length", "shift_unit": "shift_length",
                    "handoff_date": "handoff_at", "handoff_time": "handoff_at"}


class ParticipantInline(ReadOnlyInline):
    model = RotationParticipant
    fields = ["position", "user", "effective_from"]
    ordering = ["effective_from", "position"]


@admin.register(Rotation)
class RotationAdmin(NoDeleteMixin, HistoryAdmin):
    list_display = ["name", "team", "layer", "shift_length", "handoff_date", "handoff_time", "timezone", "ends_at"]
    list_filter = ["layer", "team"]
    list_select_related = ["team"]
    search_fields = ["name", "team__name", "team__slug"]
    fields = ["team", "name", "layer", "shift_count", "shift_unit", "handoff_date", "handoff_time", "timezone",
              "ends_at", "restrictions", "created_at"]
    readonly_fields = ["team", "created_at"]
    inlines = [ParticipantInline]

    def has_add_permission(self, request):
        return False  # a rotation starts with its participants: the team page, the API or a schedule file

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        changes = {}
        for name in form.changed_data:
            changes[_ROTATION_FIELDS[name]] = data[name]
        if "shift_length" in changes:
            changes["shift_length"] = format_shift_length(data["shift_count"], data["shift_unit"])
        if "handoff_at" in changes:
            changes["handoff_at"] = datetime.combine(data["handoff_date"], data["handoff_time"])
        with service_call():
            saved = services.update_rotation(rotation=obj, by=request.user, reason="changed in the admin", **changes)
        adopt(obj, saved)


@admin.register(RotationParticipant)
class RotationParticipantAdmin(ReadOnlyAdmin):
    list_display = ["rotation", "position", "user", "effective_from"]
    list_select_related = ["rotation__team", "user"]


class OverrideAdminForm(forms.ModelForm):
    """What ``create_override`` refuses, as form errors on the admin's own field names."""

    class Meta:
        model = Override
        fields = ["rotation", "user", "start_at", "end_at", "reason"]

    _FIELD = {"start": "start_at", "end": "end_at", "participants": "user"}

    def clean(self):
        data = super().clean()
        if all(data.get(name) for name in ("rotation", "user", "start_at", "end_at")):
            try:
                services.check_override(rotation=data["rotation"], user=data["user"], start=data["start_at"],
                                        end=data["end_at"])
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    for message in messages:
                        self.add_error(self._FIELD.get(key), message)
        return data


@admin.register(Override)
class OverrideAdmin(SafeAutocompleteMixin, HistoryAdmin):
    """Added and removed through the services; to change one, remove it and add another (the later one wins)."""

    form = OverrideAdminForm
    list_display = ["rotation", "user", "start_at", "end_at", "reason", "created_at"]
    list_select_related = ["rotation__team", "user"]
    list_filter = ["rotation__team"]
    autocomplete_fields = ["user"]

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        with service_call():
            saved = services.create_override(rotation=obj.rotation, user=obj.user, start=obj.start_at,
                                             end=obj.end_at, reason=obj.reason, by=request.user)
        adopt(obj, saved)

    def delete_model(self, request, obj):
        with service_call():
            services.delete_override(override=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for override in queryset.select_related("rotation__team"):
            self.delete_model(request, override)


@admin.register(SwapRequest)
class SwapRequestAdmin(ReadOnlyAdmin):
    """Accepted only by the person asked (``accept_swap``), which creates the override the swap stands for."""

    list_display = ["rotation", "requester", "recipient", "start_at", "end_at", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["rotation__team", "requester", "recipient"]


@admin.register(CalendarToken)
class CalendarTokenAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "created_at", "rotated_at"]
    exclude = ["token"]  # a secret: rotate it from the on-call pages instead of reading it here


@admin.register(HandoffNote)
class HandoffNoteAdmin(ReadOnlyAdmin):
    list_display = ["rotation", "author", "handoff_at", "created_at"]
    list_select_related = ["rotation__team", "author"]


@admin.register(HandoffNotice)
class HandoffNoticeAdmin(ReadOnlyAdmin):
    """One row per hand-off e-mailed: removing one would send that checklist again."""

    list_display = ["rotation", "handoff_at", "outgoing", "incoming", "sent_at"]
    list_select_related = ["rotation__team", "outgoing", "incoming"]


@admin.register(ShiftReminder)
class ShiftReminderAdmin(ReadOnlyAdmin):
    """One row per reminder e-mailed: removing one would send that reminder again."""

    list_display = ["rotation", "user", "shift_start_at", "sent_at"]
    list_select_related = ["rotation__team", "user"]
