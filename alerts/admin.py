"""Admin for alert ingestion: integrations (with key rotation), alerts, alert groups.

Keys are never shown here except once, in the message after creating or
rotating one. Creation and changes go through the same services as the pages
and the API (alerts.services); an integration is switched off (``enabled``),
not deleted (its alerts keep pointing at it). Alerts and alert groups are what
monitoring sent and how it was grouped: read-only, never deleted.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from core.admin import HistoryAdmin, NoDeleteMixin, ReadOnlyAdmin, adopt, service_call

from .models import Alert, AlertGroup, Integration
from .services import integrations as integration_services


class IntegrationAdminForm(forms.ModelForm):
    """Checks what the services would refuse, so a refusal is a form error and nothing is saved."""

    class Meta:
        model = Integration
        fields = ["service", "kind", "name", "enabled", "auto_resolve", "severity_map", "rate_per_second", "burst",
                  "interval_seconds", "grace_seconds"]

    def clean(self):
        data = super().clean()
        kind = self.instance.kind if self.instance.pk else data.get("kind")
        try:
            if "severity_map" in data:
                data["severity_map"] = integration_services.validate_severity_map(data["severity_map"])
            if kind:
                data["interval_seconds"], data["grace_seconds"] = integration_services.clean_heartbeat_fields(
                    kind, data.get("interval_seconds"), data.get("grace_seconds")
                )
        except ValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return data


@admin.register(Integration)
class IntegrationAdmin(NoDeleteMixin, HistoryAdmin):
    form = IntegrationAdminForm
    list_display = ["name", "service", "kind", "masked_key", "enabled", "auto_resolve", "heartbeat_state",
                    "last_ping_at"]
    list_filter = ["kind", "enabled", "service__team"]
    list_select_related = ["service"]
    search_fields = ["name", "service__slug", "key_prefix"]
    readonly_fields = ["masked_key", "key_rotated_at", "heartbeat_state", "last_ping_at", "due_at",
                       "created_by", "created_at"]
    fields = ["service", "kind", "name", "masked_key", "key_rotated_at", "enabled", "auto_resolve",
              "severity_map", "rate_per_second", "burst", "interval_seconds", "grace_seconds",
              "heartbeat_state", "last_ping_at", "due_at", "created_by", "created_at"]
    actions = ["rotate_keys"]

    @admin.display(description="key")
    def masked_key(self, obj):
        return obj.masked_key if obj.pk else "generated on save, shown once"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["service", "kind"] if obj else fields

    def save_model(self, request, obj, form, change):
        with service_call():
            if change:
                saved = integration_services.update_integration(integration=obj, by=request.user, **{
                    name: form.cleaned_data[name] for name in form.changed_data if name in integration_services.UPDATABLE
                })
            else:
                saved, key = integration_services.create_integration(
                    service=obj.service, kind=obj.kind, name=obj.name, by=request.user,
                    severity_map=obj.severity_map, interval_seconds=obj.interval_seconds,
                    grace_seconds=obj.grace_seconds, auto_resolve=obj.auto_resolve, enabled=obj.enabled,
                    rate_per_second=obj.rate_per_second, burst=obj.burst,
                )
                messages.warning(request, f"Integration key (copy it now, it will not be shown again): {key}")
        adopt(obj, saved)

    @admin.action(description="Rotate the key of the selected integrations")
    def rotate_keys(self, request, queryset):
        for integration in queryset.select_related("service"):
            key = integration_services.rotate_integration_key(integration=integration, by=request.user)
            messages.warning(request, f"New key for {integration} (shown once): {key}")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    """Alerts are what monitoring sent: read-only, never deleted."""

    list_display = ["received_at", "summary", "severity", "status", "integration", "incident", "suppressed_by"]
    list_filter = ["status", "severity", "integration__kind"]
    list_select_related = ["integration__service", "incident", "suppressed_by__service"]
    search_fields = ["summary", "dedup_key"]
    date_hierarchy = "received_at"


@admin.register(AlertGroup)
class AlertGroupAdmin(ReadOnlyAdmin):
    """Which open incident each dedup key (or Alertmanager group) joins: read-only bookkeeping."""

    list_display = ["dedup_key", "integration", "incident", "created_at", "closed_at"]
    list_filter = ["integration__kind"]
    list_select_related = ["integration__service", "incident"]
    search_fields = ["dedup_key"]
