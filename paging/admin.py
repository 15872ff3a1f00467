"""Admin for paging. Each model has its own class below; all go through services or are read-only.

Contact methods and notification rules: read-only. A person changes their own on
"Notification settings" (/paging/me/) or the API (staff may change anyone's through
``/api/v1/users/{username}/contact-methods/``), through
``paging.services.contacts``, so verification and its codes cannot be skipped.
A method's verification-code hash and a webhook's signing secret are not shown.
"""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import (
    ContactMethod,
    EscalationRun,
    Notification,
    NotificationRule,
    PagingEvent,
    PagingProfile,
    Subscription,
)

# --- Contact methods and notification rules (paging.services.contacts) -----------------------------


@admin.register(ContactMethod)
class ContactMethodAdmin(ReadOnlyAdmin):
    """Read-only: people verify and change their methods themselves (/paging/me/, the API)."""

    list_display = ["user", "kind", "address", "label", "verified_at", "created_at"]
    list_filter = ["kind", ("verified_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["address", "label", "user__username", "user__email"]
    fields = ["user", "kind", "address", "label", "verified_at", "code_expires_at", "created_at"]


@admin.register(NotificationRule)
class NotificationRuleAdmin(ReadOnlyAdmin):
    """Read-only: rules are a person's own, set on /paging/me/ or the API."""

    list_display = ["user", "urgency", "contact_method", "delay_minutes"]
    list_filter = ["urgency"]
    list_select_related = ["user", "contact_method"]
    search_fields = ["user__username", "contact_method__address"]
    fields = ["user", "urgency", "contact_method", "delay_minutes"]


# --- What paging did: runs, messages, timeline events (the engine writes them) ---------------------


@admin.register(EscalationRun)
class EscalationRunAdmin(ReadOnlyAdmin):
    """Read-only: runs are moved by the engine alone (``advance_escalation``); acknowledge the incident to stop one."""

    list_display = ["incident", "policy_name", "state", "step", "loop", "next_step_at", "started_at", "stopped_at"]
    list_filter = ["state", "urgency"]
    list_select_related = ["incident"]
    search_fields = ["incident__number", "policy_name"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Read-only: every message and every attempt to deliver it, as it happened."""

    list_display = ["created_at", "kind", "user", "channel", "address", "incident", "status", "attempts", "sent_at"]
    list_filter = ["kind", "channel", "status"]
    list_select_related = ["user", "incident"]
    search_fields = ["user__username", "address", "incident__number", "subject"]
    exclude = ["body"]  # carries a live one-click acknowledge link


@admin.register(PagingEvent)
class PagingEventAdmin(ReadOnlyAdmin):
    """Read-only: the escalation's part of incident timelines, append-only."""

    list_display = ["at", "incident", "kind", "summary"]
    list_filter = ["kind"]
    list_select_related = ["incident"]
    search_fields = ["incident__number", "summary"]


@admin.register(PagingProfile)
class PagingProfileAdmin(ReadOnlyAdmin):
    """Read-only: people set their working hours on /paging/me/."""

    list_display = ["user", "hold_low_urgency", "work_start", "work_end"]
    list_select_related = ["user"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    """Read-only: people subscribe and unsubscribe on /paging/me/."""

    list_display = ["user", "team", "service", "min_severity", "created_at"]
    list_select_related = ["user", "team", "service", "min_severity"]
