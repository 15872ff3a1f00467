"""Serializers of the paging API: shapes in and out, no writes (the services check and write)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import JSONTypes
from core.text import validate_one_line

from ..models import ContactMethod, NotificationRule, Urgency

ADDRESS_HELP = ("email: an e-mail address; sms, voice: an E.164 number (+ and 8 to 15 digits, e.g. +4915112345678); "
                "slack: a Slack member id (U…/W…) or an https://hooks.slack.com/ incoming-webhook URL; "
                "webhook: an https:// URL.")


# --- Contact methods ------------------------------------------------------------------------------

class ContactMethodSerializer(serializers.ModelSerializer):
    verified = serializers.BooleanField(read_only=True, help_text="Only verified methods are used for pages.")
    code_expires_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When the verification code sent last stops working (null: none "
                                                   "pending).")
    secret = serializers.SerializerMethodField(
        help_text="Webhooks only, shown to their owner: the key of the HMAC-SHA256 signature on each delivery. "
                  "Null otherwise.")

    class Meta:
        model = ContactMethod
        fields = ["id", "kind", "address", "label", "verified", "verified_at", "code_expires_at", "secret",
                  "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_secret(self, method: ContactMethod) -> str | None:
        request = self.context.get("request")
        owner = request is not None and request.user.pk == method.user_id
        return method.secret if owner and method.kind == ContactMethod.Kind.WEBHOOK else None


# One line each (the service refuses a control character): the validator puts that in the schema too.
class ContactMethodCreateSerializer(JSONTypes, serializers.Serializer):
    """A new contact method, unverified until the code sent to it is entered."""

    kind = serializers.ChoiceField(choices=ContactMethod.Kind.choices)
    address = serializers.CharField(max_length=500, help_text=ADDRESS_HELP, validators=[validate_one_line])
    label = serializers.CharField(max_length=60, required=False, allow_blank=True, default="",
                                  validators=[validate_one_line],
                                  help_text="A name for it on your profile, such as \"work phone\".")


class ContactMethodUpdateSerializer(JSONTypes, serializers.Serializer):
    """What changes on a contact method: its address (unverified again) and its label."""

    address = serializers.CharField(max_length=500, required=False, validators=[validate_one_line],
                                    help_text=f"A new address is unverified again. {ADDRESS_HELP}")
    label = serializers.CharField(max_length=60, required=False, allow_blank=True, validators=[validate_one_line])


class VerifySerializer(JSONTypes, serializers.Serializer):
    """A refused code answers 400 with the reason in ``detail`` and ``non_field_errors`` (``code`` is the slug)."""

    code = serializers.CharField(max_length=20, help_text="The 6-digit code from the verification message.")


class CodeSentSerializer(serializers.Serializer):
    detail = serializers.CharField()
    notification = serializers.IntegerField(help_text="The message's id: its delivery shows in notifications.")
    expires_at = serializers.DateTimeField(help_text="When the code stops working.")


class TestSentSerializer(serializers.Serializer):
    detail = serializers.CharField()
    notification = serializers.IntegerField(help_text="The message's id.")


# --- Notification rules ---------------------------------------------------------------------------

class NotificationRuleSerializer(JSONTypes, serializers.ModelSerializer):
    """One rule; ``contact_method`` is the id of one of the person's own contact methods, verified."""

    urgency = serializers.ChoiceField(choices=Urgency.choices,
                                      help_text="high: SEV1 and SEV2 pages; low: SEV3 and SEV4.")
    contact_method = serializers.PrimaryKeyRelatedField(
        queryset=ContactMethod.objects.none(),
        error_messages={"does_not_exist": "No contact method {pk_value} among this person's; list them at "
                                          "contact-methods/."},
    )
    delay_minutes = serializers.IntegerField(
        min_value=0, max_value=1440, default=0,
        help_text="Minutes after the page starts, if still unacknowledged; 0 is at once, 1440 a day.")

    class Meta:
        model = NotificationRule
        fields = ["id", "urgency", "contact_method", "delay_minutes"]
        validators: list = []  # the unique rule is the service's check, with a message

    def __init__(self, *args, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        if person is not None:
            self.fields["contact_method"].queryset = ContactMethod.objects.filter(user=person)
