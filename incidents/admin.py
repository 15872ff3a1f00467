"""Admin for incidents. Status is read-only; it changes only through the
actions below, which call the same services as the pages and the API."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import (
    Incident,
    MaintenanceWindow,
    Note,
    RoleAssignment,
    Service,
    Severity,
    Source,
    StatusUpdate,
)


@admin.register(Severity)
class SeverityAdmin(admin.ModelAdmin):
    list_display = ["name", "rank", "acknowledge_target", "resolve_target"]

    # Incidents PROTECT the severities they use. The last severity may not go
    # either: declaring an incident and alert ingestion both need one. So one
    # at a time from its own page, never in bulk.
    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not Severity.objects.exclude(pk=obj.pk).exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "team"]
    list_filter = ["team"]
    list_select_related = ["team"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    readonly_fields = ["role", "user", "assigned_by", "assigned_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class NoteInline(admin.TabularInline):
    model = Note
    extra = 0
    readonly_fields = ["author", "body", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def _transition_action(name: str):
    def action(modeladmin, request, queryset):
        done = 0
        for incident in queryset:
            try:
                services.transition_incident(
                    incident=incident, transition=name, by=request.user, note="via admin"
                )
                done += 1
            except (services.IllegalTransition, PermissionDenied) as exc:
                modeladmin.message_user(request, str(exc), messages.WARNING)
        if done:
            modeladmin.message_user(request, f"{name.title()}: {done} incident(s).", messages.SUCCESS)

    action.__name__ = f"transition_{name}"
    action.short_description = f"{name.title()} selected incidents"
    return action


class IncidentAdminForm(forms.ModelForm):
    """What the incident services refuse of an admin's input, refused as form errors (a 500 otherwise)."""

    class Meta:
        model = Incident
        fields = ["title", "description", "severity", "category", "team", "services", "impact", "users_affected",
                  "revenue_impact", "customer_facing", "started_at"]

    def clean_started_at(self):
        value = self.cleaned_data.get("started_at")
        try:
            services.check_started_at(value, declared_at=self.instance.created_at if self.instance.pk else None)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["started_at"]) from None
        return value


@admin.register(Incident)
class IncidentAdmin(SimpleHistoryAdmin):
    form = IncidentAdminForm
    list_display = ["number", "title", "status", "severity", "team", "created_at"]
    list_filter = ["status", "severity", "team", "category"]
    list_select_related = ["severity", "team"]
    search_fields = ["number", "title"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "number", "status", "declared_by", "source", "created_at", "acknowledged_at", "investigating_at",
        "identified_at", "mitigated_at", "resolved_at", "closed_at", "alert_count", "last_alert_at",
    ]
    fields = [
        "number", "status", "title", "description", "severity", "category", "team", "services",
        "impact", "users_affected", "revenue_impact", "customer_facing", "started_at",
        "declared_by", "source", "created_at", "acknowledged_at", "investigating_at", "identified_at",
        "mitigated_at", "resolved_at", "closed_at", "alert_count", "last_alert_at",
    ]
    filter_horizontal = ["services"]
    inlines = [RoleInline, NoteInline]
    actions = [_transition_action(name) for name in ("acknowledge", "resolve", "close", "reopen")]

    def get_readonly_fields(self, request, obj=None):
        # An incident stays with the team that declared it (as in the API).
        return [*self.readonly_fields, "team"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # The admin form validated the fields; the service does the write, so
        # numbering, history and signals are the same as everywhere else.
        data = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS if name in form.cleaned_data}
        affected = list(form.cleaned_data["services"])
        try:
            if change:
                saved = services.update_incident(incident=obj, by=request.user, reason="via admin",
                                                 services=affected, **data)
            else:
                saved = services.create_incident(team=form.cleaned_data["team"], by=request.user,
                                                 source=Source.ADMIN, services=affected, **data)
        except (ValidationError, PermissionDenied) as exc:
            raise ValidationError(str(exc)) from exc
        obj.pk = saved.pk
        obj.number = saved.number

    def save_related(self, request, form, formsets, change):
        # Services were set by the service in save_model (not form.save_m2m()).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(StatusUpdate)
class StatusUpdateAdmin(admin.ModelAdmin):
    list_display = ["incident", "state", "public", "created_at"]
    list_filter = ["state", "public"]
    list_select_related = ["incident"]
    readonly_fields = ["incident", "state", "body", "public", "author", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(SimpleHistoryAdmin):
    """Read-only: roles change on the incident page or the API, through the services."""

    list_display = ["incident", "role", "user", "assigned_by", "assigned_at"]
    list_filter = ["role"]
    list_select_related = ["incident", "user", "assigned_by"]
    readonly_fields = ["incident", "role", "user", "assigned_by", "assigned_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["incident", "author", "created_at"]
    list_select_related = ["incident", "author"]
    readonly_fields = ["incident", "author", "body", "created_at"]

    def has_add_permission(self, request):
        return False


class MaintenanceWindowAdminForm(forms.ModelForm):
    """The services' checks of a window, as form errors (a 500 otherwise)."""

    class Meta:
        model = MaintenanceWindow
        fields = ["service", "starts_at", "ends_at", "reason"]

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at"):
            services.check_window(data["starts_at"], data["ends_at"])
        return data


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    form = MaintenanceWindowAdminForm
    list_display = ["service", "starts_at", "ends_at", "reason", "created_by"]
    list_filter = ["service__team"]
    list_select_related = ["service", "created_by"]
    readonly_fields = ["created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # A window stays with its service; moving it would bypass the new team's permission check.
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["service"] if obj else fields

    def save_model(self, request, obj, form, change):
        if change:
            services.update_maintenance_window(
                window=obj, starts_at=obj.starts_at, ends_at=obj.ends_at, reason=obj.reason, by=request.user
            )
            return
        created = services.create_maintenance_window(
            service=obj.service, starts_at=obj.starts_at, ends_at=obj.ends_at, reason=obj.reason, by=request.user
        )
        obj.pk = created.pk
