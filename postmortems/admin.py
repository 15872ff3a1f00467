"""Admin for postmortems: policies and the shared factor vocabulary are edited here; the rest is read-only.

Postmortem policies (per severity: required, due hours) are reference rows only staff edit, saved
directly (no history, no team, nothing listens: a change applies to incidents resolved from then on).
Factor tags are written through ``postmortems.services`` (everyone's tags only here; teams keep their
own on /postmortems/factors/). Postmortems, their reviews, factors and timeline events, and action items are
read-only here, with their history: they are written on their pages and through the API. Issue trackers
are added, changed and removed through ``services.trackers`` (their token write-only). Nothing but a policy
or a tracker is deleted.
"""

from django import forms
from django.contrib import admin
from django.urls import reverse

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
from .forms import TrackerForm
from .models import (
    ActionItem,
    ContributingFactor,
    FactorTag,
    IssueTracker,
    Postmortem,
    PostmortemEvent,
    PostmortemPolicy,
    ReminderDigest,
    Review,
    ReviewMeeting,
)
from .services import trackers as tracker_services


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


@admin.register(ReviewMeeting)
class ReviewMeetingAdmin(ReadOnlyHistoryAdmin):
    list_display = ["postmortem", "starts_at", "duration_minutes", "location", "sequence", "cancelled_at"]
    list_select_related = ["postmortem__incident"]


@admin.register(ReminderDigest)
class ReminderDigestAdmin(ReadOnlyAdmin):
    list_display = ["user", "day", "sent_at", "postmortems", "action_items"]
    list_select_related = ["user"]


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


class IssueTrackerAdminForm(forms.ModelForm):
    """The token is write-only: never shown back; left empty on a change, the stored one is kept."""

    # The team page's fields (postmortems.forms.TrackerForm): the same URL rules and write-only token.
    base_url = TrackerForm.base_fields["base_url"]
    token = TrackerForm.base_fields["token"]

    class Meta:
        model = IssueTracker
        fields = ["team", "name", "kind", "base_url", "project", "username", "token", "active"]

    def clean_token(self):
        token = self.cleaned_data["token"].strip()
        if not token and not self.instance.pk:
            raise forms.ValidationError("Give an API token allowed to create issues in the project.")
        return token or self.instance.token


@admin.register(IssueTracker)
class IssueTrackerAdmin(HistoryAdmin):
    """Teams keep their own on /postmortems/trackers/team/<slug>/; staff may here, through the same services."""

    form = IssueTrackerAdminForm
    list_display = ["name", "team", "kind", "project", "active", "created_at"]
    list_filter = ["kind", "active", "team"]
    list_select_related = ["team"]
    search_fields = ["name", "project", "team__slug"]
    readonly_fields = ["webhook_path", "webhook_secret", "created_at"]

    def get_fields(self, request, obj=None):
        fields = ["team", "name", "kind", "base_url", "project", "username", "token", "active"]
        return fields if obj is None else fields + ["webhook_path", "webhook_secret", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "team"] if obj is not None else self.readonly_fields

    @admin.display(description="webhook URL")
    def webhook_path(self, obj):
        return f"{reverse('api-tracker-webhook', args=[obj.pk])} (after Vigil's address)" if obj.pk else ""

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in tracker_services.TRACKER_FIELDS if name in form.cleaned_data}
        with service_call():
            if change:
                saved = tracker_services.update_tracker(tracker=obj, by=request.user, **fields)
            else:
                saved = tracker_services.create_tracker(team=obj.team, by=request.user, **fields)
        adopt(obj, saved)

    def delete_model(self, request, obj):
        tracker_services.delete_tracker(tracker=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for tracker in queryset:
            tracker_services.delete_tracker(tracker=tracker, by=request.user)
