"""What an import brought over: one row per imported object, keyed by the source's own id.

A second run finds its earlier work here instead of creating twins, and the
fidelity check finds the rotations a source's schedule became. A mapping table
(rather than a ``pagerduty_id`` column on every model) keeps the other apps
unaware of where their rows came from, and serves every source alike.
"""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class ImportedObject(models.Model):
    source = models.CharField(max_length=32, help_text="Where it came from: pagerduty, opsgenie, grafana-oncall.")
    kind = models.CharField(max_length=32, help_text="person, team, rotation, override, policy, service, …")
    source_id = models.CharField(max_length=200, help_text="The source's id (several joined by / when one "
                                                           "source object became several Vigil rows).")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "kind", "source_id"]
        constraints = [
            # One Vigil row per source object: what makes a second run change nothing.
            models.UniqueConstraint(fields=["source", "kind", "source_id"], name="imported_once_per_source_id"),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="imported_object_target")]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.source_id} → {self.content_type.model} {self.object_id}"
