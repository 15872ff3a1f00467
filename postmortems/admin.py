"""Admin for postmortems: policies and the shared factor vocabulary are edited here; the rest is read-only.

Postmortem policies (per severity: required, due hours) are reference rows only staff edit, saved
directly (no history, no team, nothing listens: a change applies to incidents resolved from then on).
Factor tags are written through ``postmortems.services`` (everyone's tags only here; teams keep their
own on /postmortems/factors/). Postmortems, their reviews, factors and timeline events, and action items are
read-only here, with their history: they are written on their pages and through the API. Nothing but
a policy is deleted.
"""

from django.contrib import admin

from core.admin import (
    NoDeleteMixin,
    ReadOnlyAdmin,
    ReadOnlyHistoryAdmin,
    ReadOnlyInline,
    adopt,
    service_call,
)

from . import services
from .models import (
    ActionItem,
    ContributingFactor,
    FactorTag,
    Postmortem,
    PostmortemEvent,
    PostmortemPolicy,
    Review,
)


@admin.register(PostmortemPolicy)
class PostmortemPolicyAdmin(admin.ModelAdmin):
    """Plain saves: reference rows without history, listeners or team permissions (like severities). Deleting
    one (or its severity) leaves that severity to the defaults."""

    list_display = ["severity", "required", "due_hours"]
    list_select_related = ["severity"]


@admin.register(FactorTag)
class FactorTagAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "team", "active", "description"]
    list_filter = ["active", "team"]
    list_select_related = ["team"]
    search_fields = ["name", "description"]

    def get_fields(self, request, obj=None):
        return ["team", "name", "description"] if obj is None else ["team", "name", "description", "active"]

    def get_readonly_fields(self, request, obj=None):
        return ["team"] if obj is not None else []  # a tag stays with its team

    def save_model(self, request, obj, form, change):
        with service_call():
            if change:
                saved = services.update_factor_tag(tag=obj, by=request.user, name=obj.name,
                                                   description=obj.description, active=obj.active)
            else:
                saved = services.create_factor_tag(team=obj.team, name=obj.name, description=obj.description,
                                                   by=request.user)
        adopt(obj, saved)


class FactorInline(ReadOnlyInline):
    model = ContributingFactor
    fields = ["tag", "description"]


class ReviewInline(ReadOnlyInline):
    model = Review
    fields = ["reviewer", "requested_at", "approved_at", "approved_round"]


class EventInline(ReadOnlyInline):
    model = PostmortemEvent
    fields = ["at", "kind", "actor", "summary", "key"]


@admin.register(Postmortem)
class PostmortemAdmin(ReadOnlyHistoryAdmin):
    list_display = ["incident", "status", "required", "owner", "due_at", "published_at"]
    list_filter = ["status", "required"]
    list_select_related = ["incident", "owner"]
    search_fields = ["incident__number", "incident__title"]
    inlines = [FactorInline, ReviewInline, EventInline]


@admin.register(Review)
class ReviewAdmin(ReadOnlyHistoryAdmin):
    list_display = ["postmortem", "reviewer", "requested_at", "approved_at", "approved_round"]
    list_select_related = ["postmortem__incident", "reviewer"]


@admin.register(ContributingFactor)
class ContributingFactorAdmin(ReadOnlyHistoryAdmin):
    list_display = ["postmortem", "tag", "description"]
    list_select_related = ["postmortem__incident", "tag"]
    list_filter = ["tag"]


@admin.register(PostmortemEvent)
class PostmortemEventAdmin(ReadOnlyAdmin):
    list_display = ["postmortem", "at", "kind", "actor", "summary", "key"]
    list_select_related = ["postmortem__incident"]


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyHistoryAdmin):
    list_display = ["title", "incident", "priority", "status", "owner", "due_at"]
    list_filter = ["status", "priority"]
    list_select_related = ["incident", "owner"]
    search_fields = ["title", "incident__number"]
