"""Bases for the admin of every Vigil app: it writes through services, or not at all.

Django's admin saves with ``obj.save()`` and deletes with ``obj.delete()`` and a
bulk ``delete_selected`` unless told otherwise, which would skip the services'
permission checks, history reasons, signals and e-mails (ARCHITECTURE.md). So
each Vigil ``ModelAdmin``, for each of add, change and delete, either overrides
``save_model`` / ``delete_model`` / ``delete_queryset`` to call a service, or
refuses that permission with these bases. Refused permissions also take away
their buttons, and ``delete_selected`` goes with the delete permission.
``tests/config/test_admin_goes_through_services.py`` walks every registered admin.

No models here: ``core`` imports no Vigil app, and registers nothing.
"""

from contextlib import contextmanager

from django.contrib import admin
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from simple_history.admin import SimpleHistoryAdmin


class NoDeleteMixin:
    """Nothing of this model is deleted from the admin: no delete page, no bulk delete."""

    def has_delete_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        raise PermissionDenied(f"{obj._meta.verbose_name_plural.capitalize()} are not deleted from the admin.")

    def delete_queryset(self, request, queryset):
        raise PermissionDenied(f"{queryset.model._meta.verbose_name_plural.capitalize()} are not deleted from the admin.")


class ReadOnlyMixin(NoDeleteMixin):
    """For looking: no add, change or delete. The pages, the API or Vigil itself write these rows."""

    def has_add_permission(self, request, obj=None):  # obj: inlines are asked with the parent
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        raise PermissionDenied(f"{obj._meta.verbose_name_plural.capitalize()} are read-only in the admin.")


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False


class HistoryAdmin(SimpleHistoryAdmin):
    """simple-history's admin (the History page lists every version, who and why) without "Revert".

    Reverting saves an old version straight from its form: for a read-only model
    that would write anyway (simple-history asks only for the view permission),
    and for the others it would set relations behind the service's back. To go
    back, change the object again: that is a service call and a history row.
    """

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("Versions are not restored from the admin; change the object instead.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyHistoryAdmin(ReadOnlyMixin, HistoryAdmin):
    pass


def adopt(obj, saved) -> None:
    """Give the admin's unsaved ``obj`` the row a service ``saved``, so its messages and links name it."""
    for field in saved._meta.concrete_fields:
        value = getattr(saved, field.attname)
        if getattr(obj, field.attname, None) != value:  # unchanged ones stay: a protected FSM field refuses any set
            setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = saved._state.db


@contextmanager
def service_call():
    """Around a service call in ``save_model``/``delete_model``. The admin's forms already check
    what the services would refuse, so a refusal here is rare (a race); it becomes a 400 that
    says why and the admin's transaction is rolled back, never a 500. A PermissionDenied stays a 403."""
    try:
        yield
    except ValidationError as exc:
        raise BadRequest("; ".join(exc.messages)) from exc
