"""Admin for people, teams and memberships.

Teams and memberships are written by ``oncall.services.people`` (the membership
history records who changed it); a new person is created by ``create_user``,
which also invites them. Changing a person's account (password, staff flag,
groups) is Django's own user admin. Nothing here is deleted: a person leaves by
being made inactive, so their notes, shifts and history keep their name.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from core.admin import HistoryAdmin, NoDeleteMixin, adopt, service_call

from .. import services
from ..models import Membership, Team, User
from .widgets import SafeAutocompleteMixin

TEAM_FIELDS = ["slug", "name", "timezone", "description", "slack_channel"]


@admin.register(User)
class UserAdmin(NoDeleteMixin, DjangoUserAdmin):
    list_display = ["username", "full_name", "email", "timezone", "is_staff", "is_active"]
    search_fields = ["username", "full_name", "email"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Vigil", {"fields": ("full_name", "timezone", "phone")}),
    )
    add_fieldsets = ((None, {
        "classes": ("wide",),
        "fields": ("username", "email", "full_name", "timezone", "usable_password", "password1", "password2"),
    }),)

    def save_model(self, request, obj, form, change):
        if change:
            # Django's change form has set the fields on obj (password, staff flag, name, zone…);
            # the service saves them with the person's history. Groups and permissions follow in save_related.
            with service_call():
                services.update_user(user=obj, by=request.user, changed=list(form.changed_data))
            return
        data = form.cleaned_data
        with service_call():
            created = services.create_user(
                username=data["username"], email=data.get("email", ""), full_name=data.get("full_name", ""),
                timezone=data.get("timezone") or "UTC",
                password=data.get("password1") if data.get("set_usable_password") else None,
                by=request.user, site_url=request.build_absolute_uri("/"),
            )
        adopt(obj, created)


class MembershipInline(SafeAutocompleteMixin, admin.TabularInline):
    model = Membership
    fields = ["user", "role"]
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(NoDeleteMixin, admin.ModelAdmin):
    """A team and its members; incidents and services point at a team, so it stays."""

    list_display = ["name", "slug", "timezone"]
    search_fields = ["name", "slug"]
    fields = TEAM_FIELDS
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj is not None else []  # fixed once created: URLs and the API name teams by it

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else self.prepopulated_fields

    def save_model(self, request, obj, form, change):
        with service_call():
            if change:
                changes = {name: form.cleaned_data[name] for name in form.changed_data if name in TEAM_FIELDS}
                saved = services.update_team(team=obj, by=request.user, **changes) if changes else obj
            else:
                saved = services.create_team(by=request.user, **{name: form.cleaned_data[name] for name in TEAM_FIELDS})
        adopt(obj, saved)

    def save_formset(self, request, form, formset, change):
        """Members through ``set_membership`` and ``remove_membership``, never ``formset.save()``."""
        team = formset.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            deleting = formset.can_delete and formset._should_delete_form(row)
            if not deleting and not row.has_changed():
                continue  # an untouched row costs nothing
            stored = Membership.objects.filter(pk=row.instance.pk).select_related("team").first()
            with service_call():
                if deleting:
                    if stored is not None:
                        services.remove_membership(membership=stored, by=request.user)
                        formset.deleted_objects.append(stored)
                    continue
                if not row.has_changed():
                    continue
                user, role = row.cleaned_data["user"], row.cleaned_data["role"]
                if stored is not None and stored.user_id != user.pk:
                    # Another person in this row: the one who was there leaves the team.
                    services.remove_membership(membership=stored, by=request.user)
                membership = services.set_membership(team=team, user=user, role=role, by=request.user)
            if stored is not None and stored.user_id == user.pk:
                formset.changed_objects.append((membership, row.changed_data))
            else:
                formset.new_objects.append(membership)


@admin.register(Membership)
class MembershipAdmin(SafeAutocompleteMixin, HistoryAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]
    list_select_related = ["user", "team"]
    fields = ["team", "user", "role"]
    autocomplete_fields = ["user", "team"]

    def get_readonly_fields(self, request, obj=None):
        # Another person or team is another membership: add that one, remove this one.
        return ["team", "user"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        with service_call():
            saved = services.set_membership(team=obj.team, user=obj.user, role=obj.role, by=request.user)
        adopt(obj, saved)

    def delete_model(self, request, obj):
        with service_call():
            services.remove_membership(membership=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("team"):
            self.delete_model(request, membership)
