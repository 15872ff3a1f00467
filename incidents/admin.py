"""Admin for incidents and the service catalogue: writes go through ``incidents.services``.

Incidents are declared and edited through the services (numbering, history,
signals, permission checks) and change status only through the actions below.
Incidents, their notes, stakeholder updates and role assignments are never
deleted here, nor services (incidents point at them); notes, updates and roles
are read-only (the incident page and the API write them). Severities are
reference rows that only the admin edits, directly. Checklist templates (seeded
by a migration) and incidents' checklist items are read-only here: items are
ticked on the incident page or through the API.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from core.admin import (
    HistoryAdmin,
    NoDeleteMixin,
    ReadOnlyAdmin,
    ReadOnlyHistoryAdmin,
    ReadOnlyInline,
    adopt,
    service_call,
)

from . import services
from .guards import ClosingRefused
from .models import (
    ChecklistItem,
    ChecklistTemplate,
    ChecklistTemplateItem,
    Incident,
    MaintenanceWindow,
    Note,
    Responder,
    RoleAssignment,
    Service,
    Severity,
    Source,
    StatusUpdate,
)


@admin.register(Severity)
class SeverityAdmin(admin.ModelAdmin):
    """Plain saves: reference rows (name, rank, targets) without history, listeners or team permissions."""

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
class ServiceAdmin(NoDeleteMixin, HistoryAdmin):
    list_display = ["name", "slug", "team"]
    list_filter = ["team"]
    list_select_related = ["team"]
    search_fields = ["name", "slug"]
    fields = ["slug", "name", "team", "description", "runbook_url", "runbook", "escalation"]
    readonly_fields = ["escalation"]
    prepopulated_fields = {"slug": ("name",)}

    @admin.display(description="Escalation policies")
    def escalation(self, obj):
        """Chosen on the service's page or through the API (``escalation_policy``, ``escalation_policies``)."""
        if obj.pk is None:
            return "—"
        default = obj.escalation_policy.name if obj.escalation_policy_id else "none (the team's default)"
        per = [f"{sp.severity.name}: {sp.policy.name}"
               for sp in obj.severity_policies.select_related("severity", "policy").order_by("severity__rank")]
        return "; ".join([f"default: {default}", *per])

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        with service_call():
            if change:
                saved = services.update_service(service=obj, by=request.user, reason="changed in the admin",
                                                **{name: data[name] for name in form.changed_data})
            else:
                saved = services.create_service(by=request.user, **{name: data[name] for name in self.fields
                                                                          if name in data})
        adopt(obj, saved)


class RoleInline(ReadOnlyInline):
    model = RoleAssignment
    fields = ["role", "user", "assigned_by", "assigned_at"]


class NoteInline(ReadOnlyInline):
    model = Note
    fields = ["author", "body", "created_at"]


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
            except ClosingRefused as exc:  # another app's guard (incidents.guards): a postmortem to publish
                modeladmin.message_user(request, exc.message, messages.WARNING)
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
class IncidentAdmin(NoDeleteMixin, HistoryAdmin):
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
        with service_call():
            if change:
                saved = services.update_incident(incident=obj, by=request.user, reason="via admin",
                                                 services=affected, **data)
            else:
                saved = services.create_incident(team=form.cleaned_data["team"], by=request.user,
                                                 source=Source.ADMIN, services=affected, **data)
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        # Services were set by the service in save_model (not form.save_m2m()); the inlines are read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(StatusUpdate)
class StatusUpdateAdmin(ReadOnlyAdmin):
    """Read-only: what stakeholders were told stays as they were told it."""

    list_display = ["incident", "state", "public", "created_at"]
    list_filter = ["state", "public"]
    list_select_related = ["incident"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyHistoryAdmin):
    """Read-only: roles change on the incident page or the API, through the services."""

    list_display = ["incident", "role", "user", "assigned_by", "assigned_at"]
    list_filter = ["role"]
    list_select_related = ["incident", "user", "assigned_by"]


@admin.register(Responder)
class ResponderAdmin(ReadOnlyAdmin):
    """Read-only: people become responders by being paged, escalated to or given a role."""

    list_display = ["incident", "user", "via", "added_by", "added_at"]
    list_filter = ["via"]
    list_select_related = ["incident", "user", "added_by"]


@admin.register(Note)
class NoteAdmin(ReadOnlyAdmin):
    """Read-only: notes are the incident's record, written on its page or through the API."""

    list_display = ["incident", "author", "created_at"]
    list_select_related = ["incident", "author"]


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
class MaintenanceWindowAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Planned and moved through the services; ended from the service's page (``end_maintenance_window``)."""

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
        with service_call():
            if change:
                saved = services.update_maintenance_window(
                    window=obj, starts_at=obj.starts_at, ends_at=obj.ends_at, reason=obj.reason, by=request.user
                )
            else:
                saved = services.create_maintenance_window(
                    service=obj.service, starts_at=obj.starts_at, ends_at=obj.ends_at, reason=obj.reason,
                    by=request.user,
                )
        adopt(obj, saved)


class _DeletedWithTheirSeverity:
    """Plain deletes: a severity's checklist goes with it (its delete page lists them); incidents keep
    their own copies of the items, so nothing else changes."""

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    def delete_model(self, request, obj):
        admin.ModelAdmin.delete_model(self, request, obj)

    def delete_queryset(self, request, queryset):
        admin.ModelAdmin.delete_queryset(self, request, queryset)


class ChecklistTemplateItemInline(ReadOnlyInline):
    model = ChecklistTemplateItem
    fields = ["position", "text", "auto"]


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(_DeletedWithTheirSeverity, ReadOnlyAdmin):
    """Read-only: the per-severity checklists, seeded by migration 0015 (deleted only with their severity)."""

    list_display = ["severity", "phase"]
    list_filter = ["phase"]
    list_select_related = ["severity"]
    inlines = [ChecklistTemplateItemInline]


@admin.register(ChecklistTemplateItem)
class ChecklistTemplateItemAdmin(_DeletedWithTheirSeverity, ReadOnlyAdmin):
    """Read-only: one line of a severity's checklist."""

    list_display = ["template", "position", "text", "auto"]
    list_select_related = ["template__severity"]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ReadOnlyHistoryAdmin):
    """Read-only: items are ticked on the incident page or through the API (a timeline event each)."""

    list_display = ["incident", "phase", "position", "text", "done_at", "done_by"]
    list_filter = ["phase"]
    list_select_related = ["incident", "done_by"]
