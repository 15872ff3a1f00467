"""Admin autocomplete that survives a submitted value that is not a key.

Django's ``AutocompleteSelect`` renders the submitted choice by querying
``pk IN (<value>)``; a form sent back with ``user=nobody`` then fails while
the page with the error is drawn (ValueError, a 500) instead of showing
"Select a valid choice". This widget leaves out values its model's key
cannot hold before that query, so the form's own error shows.
"""

from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError


def _is_key(field, value) -> bool:
    try:
        field.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


class KeyOnlyAutocompleteSelect(AutocompleteSelect):
    def optgroups(self, name, value, attr=None):
        key = self.field.remote_field.model._meta.pk
        return super().optgroups(name, [item for item in value if _is_key(key, item)], attr)


class SafeAutocompleteMixin:
    """For ModelAdmin and inlines with ``autocomplete_fields``."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = KeyOnlyAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
