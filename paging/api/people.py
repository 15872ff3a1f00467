"""A person's contact methods and notification rules over HTTP (../../API.md, "On-call and escalation").

Thin: find the person (yourself; staff: anyone), validate, call ``paging.services.contacts``.
Another person's methods and rules do not exist for a caller who is not staff: a 404, as for
an unknown username. A code or test asked for again within a minute is a 429 with Retry-After.
"""

from django.urls import path
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.response import Response

from oncall.models import User

from ..models import ContactMethod, NotificationRule
from ..services.contacts import (
    TooSoon,
    add_contact_method,
    add_rule,
    can_manage_contacts,
    delete_contact_method,
    delete_rule,
    send_test,
    send_verification,
    update_contact_method,
    verify_contact_method,
)
from .serializers import (
    CodeSentSerializer,
    ContactMethodCreateSerializer,
    ContactMethodSerializer,
    ContactMethodUpdateSerializer,
    NotificationRuleSerializer,
    TestSentSerializer,
    VerifySerializer,
)

USERNAME = OpenApiParameter("username", str, OpenApiParameter.PATH,
                            description="Whose: your own username (staff: anyone's).")
ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The contact method's id.")
RULE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The rule's id.")


def find_person(request, username: str) -> User:
    """The person whose methods these are: the caller, or anyone for staff; else 404."""
    person = User.objects.filter(username=username).first()
    if person is None or not can_manage_contacts(request.user, person):
        raise NotFound(f"No user {username!r} whose contact methods you may see: only your own (staff: anyone's).")
    return person


class PersonSubresource:
    """Mixin: ``self.person``, found once per request."""

    _person = None

    @property
    def person(self) -> User:
        if self._person is None:
            self._person = find_person(self.request, self.kwargs["username"])
        return self._person

    def fake(self) -> bool:
        # drf-spectacular builds views without URL kwargs to read their querysets.
        return getattr(self, "swagger_fake_view", False)

    def method(self, pk: int) -> ContactMethod:
        found = ContactMethod.objects.select_related("user").filter(user=self.person, pk=pk).first()
        if found is None:
            raise NotFound(f"No contact method {pk} among {self.person.username}'s.")
        return found


def _too_soon(error: TooSoon) -> Throttled:
    return Throttled(wait=error.retry_after, detail=error.messages[0])


# --- Contact methods ------------------------------------------------------------------------------

@extend_schema_view(
    get=extend_schema(summary="A person's contact methods (yourself; staff: anyone)", parameters=[USERNAME]),
    post=extend_schema(summary="Add a contact method (unverified until its code is entered)", parameters=[USERNAME],
                       request=ContactMethodCreateSerializer, responses={201: ContactMethodSerializer}),
)
class ContactMethodList(PersonSubresource, generics.ListCreateAPIView):
    serializer_class = ContactMethodSerializer
    filter_backends: list = []

    def get_queryset(self):
        if self.fake():
            return ContactMethod.objects.none()
        return ContactMethod.objects.filter(user=self.person).order_by("kind", "id")

    def create(self, request, *args, **kwargs):
        person = self.person
        data = ContactMethodCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        method = add_contact_method(user=person, by=request.user, **data.validated_data)
        return Response(ContactMethodSerializer(method, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="A contact method", parameters=[USERNAME, ID]),
    patch=extend_schema(summary="Change a contact method's label or address (a new address needs verifying again)",
                        parameters=[USERNAME, ID], request=ContactMethodUpdateSerializer,
                        responses={200: ContactMethodSerializer}),
    delete=extend_schema(summary="Delete a contact method and its rules (with none left, pages go to the account "
                                 "e-mail)", parameters=[USERNAME, ID], responses={204: None}),
)
class ContactMethodDetail(PersonSubresource, generics.GenericAPIView):
    serializer_class = ContactMethodSerializer
    filter_backends: list = []

    def get(self, request, username, pk):
        return Response(ContactMethodSerializer(self.method(pk), context={"request": request}).data)

    def patch(self, request, username, pk):
        method = self.method(pk)
        data = ContactMethodUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        method = update_contact_method(method=method, by=request.user, **data.validated_data)
        return Response(ContactMethodSerializer(method, context={"request": request}).data)

    def delete(self, request, username, pk):
        delete_contact_method(method=self.method(pk), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(summary="Verify a contact method with the code sent to it", parameters=[USERNAME, ID],
               request=VerifySerializer, responses={200: ContactMethodSerializer})
class ContactMethodVerify(PersonSubresource, generics.GenericAPIView):
    serializer_class = VerifySerializer
    filter_backends: list = []

    def post(self, request, username, pk):
        method = self.method(pk)
        data = VerifySerializer(data=request.data)
        if not data.is_valid():
            # Every error body carries "code" as its slug (config.api): the field's errors go beside it.
            raise ValidationError({"non_field_errors": [f"{field}: {problem}" for field, problems in data.errors.items()
                                                        for problem in problems]})
        method = verify_contact_method(method=method, code=data.validated_data["code"], by=request.user)
        return Response(ContactMethodSerializer(method, context={"request": request}).data)


@extend_schema(summary="Send a verification code to a contact method (at most one a minute)",
               parameters=[USERNAME, ID], request=None,
               responses={202: OpenApiResponse(CodeSentSerializer, description="The code is on its way.")})
class ContactMethodSendCode(PersonSubresource, generics.GenericAPIView):
    serializer_class = CodeSentSerializer
    filter_backends: list = []

    def post(self, request, username, pk):
        method = self.method(pk)
        try:
            sent = send_verification(method=method, by=request.user)
        except TooSoon as error:
            raise _too_soon(error) from error
        method.refresh_from_db(fields=["code_expires_at"])
        body = {"detail": f"A 6-digit code is on its way to {method.address}; it works for 15 minutes.",
                "notification": sent.pk, "expires_at": method.code_expires_at}
        return Response(CodeSentSerializer(body).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(summary="Send a test message to a contact method, verified or not (at most one a minute)",
               parameters=[USERNAME, ID], request=None,
               responses={202: OpenApiResponse(TestSentSerializer, description="The test is on its way.")})
class ContactMethodTest(PersonSubresource, generics.GenericAPIView):
    serializer_class = TestSentSerializer
    filter_backends: list = []

    def post(self, request, username, pk):
        method = self.method(pk)
        try:
            sent = send_test(method=method, by=request.user)
        except TooSoon as error:
            raise _too_soon(error) from error
        body = {"detail": f"A test message is on its way to {method.address}.", "notification": sent.pk}
        return Response(TestSentSerializer(body).data, status=status.HTTP_202_ACCEPTED)


# --- Notification rules ---------------------------------------------------------------------------

@extend_schema_view(
    get=extend_schema(summary="A person's notification rules (yourself; staff: anyone)", parameters=[USERNAME]),
    post=extend_schema(summary="Add a rule: use a verified method for an urgency after a delay",
                       parameters=[USERNAME]),
)
class NotificationRuleList(PersonSubresource, generics.ListCreateAPIView):
    serializer_class = NotificationRuleSerializer
    filter_backends: list = []

    def get_queryset(self):
        if self.fake():
            return NotificationRule.objects.none()
        return NotificationRule.objects.filter(user=self.person).order_by("urgency", "delay_minutes", "id")

    def create(self, request, *args, **kwargs):
        person = self.person
        data = NotificationRuleSerializer(data=request.data, person=person)
        data.is_valid(raise_exception=True)
        rule = add_rule(user=person, by=request.user, **data.validated_data)
        return Response(NotificationRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="A notification rule", parameters=[USERNAME, RULE_ID]),
    delete=extend_schema(summary="Delete a notification rule (with none left for an urgency, pages go to the "
                                 "account e-mail at once)", parameters=[USERNAME, RULE_ID], responses={204: None}),
)
class NotificationRuleDetail(PersonSubresource, generics.GenericAPIView):
    serializer_class = NotificationRuleSerializer
    filter_backends: list = []

    def rule(self, pk: int) -> NotificationRule:
        found = NotificationRule.objects.select_related("user").filter(user=self.person, pk=pk).first()
        if found is None:
            raise NotFound(f"No notification rule {pk} among {self.person.username}'s.")
        return found

    def get(self, request, username, pk):
        return Response(NotificationRuleSerializer(self.rule(pk)).data)

    def delete(self, request, username, pk):
        delete_rule(rule=self.rule(pk), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("users/<str:username>/contact-methods/", ContactMethodList.as_view(), name="api-contact-methods"),
    path("users/<str:username>/contact-methods/<id:pk>/", ContactMethodDetail.as_view(), name="api-contact-method"),
    path("users/<str:username>/contact-methods/<id:pk>/verify/", ContactMethodVerify.as_view(),
         name="api-contact-method-verify"),
    path("users/<str:username>/contact-methods/<id:pk>/send-code/", ContactMethodSendCode.as_view(),
         name="api-contact-method-send-code"),
    path("users/<str:username>/contact-methods/<id:pk>/test/", ContactMethodTest.as_view(),
         name="api-contact-method-test"),
    path("users/<str:username>/notification-rules/", NotificationRuleList.as_view(), name="api-notification-rules"),
    path("users/<str:username>/notification-rules/<id:pk>/", NotificationRuleDetail.as_view(),
         name="api-notification-rule"),
]
