"""Components are added, changed and deleted through ``comms.services``."""

from django import forms
from django.contrib import admin

from core.admin import adopt, service_call

from . import services
from .models import Component


class ComponentAdminForm(forms.ModelForm):
    class Meta:
        model = Component
        fields = ["team", "name", "description", "services", "position", "status_override", "override_reason"]

    def clean(self):
        data = super().clean()
        team = data.get("team") or getattr(self.instance, "team", None)
        if team is not None and "services" in data:
            foreign = [s.slug for s in data["services"] if s.team_id != team.pk]
            if foreign:
                self.add_error("services", f"Services of another team: {', '.join(foreign)}.")
        if data.get("override_reason") and not data.get("status_override"):
            self.add_error("override_reason", "A reason only goes with a status set by hand; clear it.")
        return data


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    form = ComponentAdminForm
    list_display = ["name", "team", "position", "status_override"]
    list_filter = ["team"]
    list_select_related = ["team"]
    filter_horizontal = ["services"]
    readonly_fields = ["created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # A component stays with its team; moving it would bypass the new team's permission check.
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["team"] if obj else fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {name: data[name] for name in services.COMPONENT_FIELDS}
        with service_call():
            if change:
                saved = services.update_component(component=obj, by=request.user, services=list(data["services"]),
                                                  **fields)
            else:
                saved = services.create_component(team=obj.team, by=request.user,
                                                  services=list(data["services"]), **fields)
        adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        # The service already set the services; only formsets (none here) would remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        with service_call():
            services.delete_component(component=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for component in queryset:
            self.delete_model(request, component)
