"""Components are added, changed and deleted through ``comms.services``."""

from django import forms
from django.contrib import admin

from core.admin import HistoryAdmin, adopt, service_call

from . import services, subscribers, templating
from .models import CommTemplate, Component, StatusSubscriber


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


@admin.register(StatusSubscriber)
class StatusSubscriberAdmin(admin.ModelAdmin):
    """Read-only: people subscribe and confirm themselves (double opt-in). Deleting one (someone asked by
    other means to stop the mails) goes through ``comms.subscribers.remove_subscriber``."""

    list_display = ["email", "team", "confirmed_at", "created_at"]
    list_filter = [("confirmed_at", admin.EmptyFieldListFilter), "team"]
    list_select_related = ["team"]
    search_fields = ["email", "team__name", "team__slug"]
    ordering = ["email", "id"]
    readonly_fields = ["email", "team", "created_at", "confirmed_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        subscribers.remove_subscriber(subscriber=obj)

    def delete_queryset(self, request, queryset):
        for subscriber in queryset:
            subscribers.remove_subscriber(subscriber=subscriber)


class CommTemplateAdminForm(forms.ModelForm):
    class Meta:
        model = CommTemplate
        fields = ["team", "kind", "subject", "body"]

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or self.instance.kind
        if kind:
            for field in ("subject", "body"):
                if data.get(field) is not None:
                    for problem in templating.problems_in(data[field], kind=kind):
                        self.add_error(field, problem)
        return data


@admin.register(CommTemplate)
class CommTemplateAdmin(HistoryAdmin):
    """Saved through ``services.save_template`` (the same checks as the pages); a team's override is removed
    through ``services.delete_template``; the organisation's templates are only edited, never deleted."""

    form = CommTemplateAdminForm
    list_display = ["kind", "whose", "subject", "updated_at", "updated_by"]
    list_filter = ["kind", "team"]
    list_select_related = ["team", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    @admin.display(description="Whose", ordering="team__name")
    def whose(self, obj) -> str:
        return obj.team.name if obj.team else "Organisation"

    def get_readonly_fields(self, request, obj=None):
        # Moving a template to another team or kind would bypass that team's permission check.
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["team", "kind"] if obj else fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.team_id is None:
            return False  # every team without an override falls back on it
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        with service_call():
            saved = services.save_template(team=obj.team, kind=obj.kind, subject=data["subject"],
                                           body=data["body"], by=request.user)
        adopt(obj, saved)

    def delete_model(self, request, obj):
        with service_call():
            services.delete_template(template=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for template in queryset:
            self.delete_model(request, template)
