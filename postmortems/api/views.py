"""Postmortems and action items over HTTP. Thin: look up, validate, call a service.

Who may see an incident may see its postmortem and action items (its team, its responders, staff);
anything else is a 404. Writes need to be able to work the incident (the services refuse with 403).
A postmortem's state refusing a request is a 409 with a ``code``: ``illegal_transition`` (with
``status`` and ``allowed``), ``stale_version`` (someone saved since the ``version`` sent; with the
current ``version``), ``postmortem_published`` (reopen it to edit), ``postmortem_exists``.
"""

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response

from config.api import Conflict
from core.ids import parse_id
from core.links import site_url
from incidents.models import Category, Severity
from oncall.models import User

from ..library import filtered, search
from ..models import ActionItemStatus, IssueTracker, PostmortemStatus
from ..models.postmortem import TRANSITIONS
from ..queries import (
    action_items_for,
    assignable_people,
    factor_tags_for,
    in_list_order,
    meeting_of,
    postmortems_for,
    postmortems_in_full,
    sort_action_items,
)
from ..services import (
    PostmortemConflict,
    cancel_meeting,
    create_action_item,
    schedule_meeting,
    set_action_item_status,
    start_postmortem,
    transition_postmortem,
    update_action_item,
    update_postmortem,
)
from ..services.trackers import TrackerError, send_action_item
from .serializers import (
    ActionItemCreateSerializer,
    ActionItemSendSerializer,
    ActionItemSerializer,
    ActionItemUpdateSerializer,
    MeetingScheduleSerializer,
    PostmortemCreateSerializer,
    PostmortemDetailSerializer,
    PostmortemSerializer,
    PostmortemTransitionSerializer,
    PostmortemUpdateSerializer,
)

ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
TRANSITION = OpenApiParameter("transition", str, OpenApiParameter.PATH, enum=TRANSITIONS,
                              description="submit, approve (not by its owner), publish (once approved), reopen.")
CONFLICT = OpenApiResponse(
    response={"$ref": "#/components/schemas/IllegalTransition"},  # config.schema adds the component
    description="The postmortem's state refuses it: `code` is illegal_transition (with `status` and `allowed`), "
                "stale_version (someone saved since your `version`), postmortem_published or postmortem_exists.")
TRUE = ("1", "true", "yes")


def _conflict(exc: PostmortemConflict) -> Conflict:
    return Conflict(exc.message, code=exc.code, **exc.extra)


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    if value.lower() in TRUE:
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise ValidationError({"overdue": ["Give true or false."]})


def _find_postmortem(request, pk):
    postmortem = postmortems_in_full(request.user).filter(pk=pk).first()
    if postmortem is None:
        raise NotFound(f"No postmortem {pk} among the postmortems of your teams' incidents.")
    return postmortem


def _postmortem_answer(request, postmortem, code=status.HTTP_200_OK) -> Response:
    fresh = _find_postmortem(request, postmortem.pk)
    return Response(PostmortemDetailSerializer(fresh, context={"request": request}).data, status=code)


LIST_FILTERS = [
    OpenApiParameter("incident", str, description="An incident's number, e.g. INC-2026-0042: its postmortem."),
    OpenApiParameter("status", str, enum=PostmortemStatus.values, description="Only postmortems in this status."),
    OpenApiParameter("owner", str, description="A username: the postmortems they own."),
    OpenApiParameter("team", str, description="A team's slug: the postmortems of its incidents."),
    OpenApiParameter("overdue", bool, description="true: only those not published and past due."),
    OpenApiParameter("q", str, description="Words to search for (up to 200 characters), as in a web search: "
                                          "\"a phrase\", -word, or. On PostgreSQL the best match comes first (title, "
                                          "summary and root cause count most); on SQLite every word must appear, "
                                          "newest first."),
    OpenApiParameter("service", str, description="A service's slug: postmortems of incidents that touched it."),
    OpenApiParameter("category", str, enum=Category.values, description="Only incidents of this category."),
    OpenApiParameter("severity", str, description="A severity's name, e.g. SEV1."),
    OpenApiParameter("factor", str, description="A contributing-factor tag's name (any case): postmortems naming it."),
]
MAX_QUERY = 200


@extend_schema_view(
    get=extend_schema(summary="Postmortems of your teams' incidents (not yet published first, soonest due first)",
                      parameters=LIST_FILTERS),
    post=extend_schema(summary="Start a postmortem of a resolved incident (any severity)",
                       request=PostmortemCreateSerializer,
                       responses={201: PostmortemDetailSerializer, 409: CONFLICT}),
)
class PostmortemList(generics.ListCreateAPIView):
    serializer_class = PostmortemSerializer
    filter_backends: list = []

    def get_queryset(self):
        qs = postmortems_in_full(self.request.user)
        params = self.request.query_params
        if incident := params.get("incident"):
            qs = qs.filter(incident__number=incident.strip().upper())
        if state := params.get("status"):
            if state not in PostmortemStatus.values:
                raise ValidationError({"status": [f"Unknown status {state!r}; use {', '.join(PostmortemStatus.values)}."]})
            qs = qs.filter(status=state)
        if owner := params.get("owner"):
            qs = qs.filter(owner__username=owner)
        if _flag(params.get("overdue")):
            qs = qs.overdue(timezone.now())
        category, severity, q = params.get("category", ""), params.get("severity", ""), params.get("q", "")
        if category and category not in Category.values:
            raise ValidationError({"category": [f"Unknown category {category!r}; use {', '.join(Category.values)}."]})
        if severity and not Severity.objects.filter(name=severity).exists():
            raise ValidationError({"severity": [f"Unknown severity {severity!r}; give a name such as SEV1."]})
        if len(q) > MAX_QUERY:
            raise ValidationError({"q": [f"Give at most {MAX_QUERY} characters to search for."]})
        qs = filtered(qs, team=params.get("team", ""), service=params.get("service", ""), category=category,
                      severity=severity, factor=params.get("factor", ""))
        return search(qs, q) if q.strip() else in_list_order(qs)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def create(self, request, *args, **kwargs):
        data = PostmortemCreateSerializer(data=request.data, context={
            "request": request, "users": User.objects.filter(is_active=True)})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        incident = fields.pop("incident")
        try:
            with transaction.atomic():
                postmortem = start_postmortem(incident=incident, by=request.user)
                if fields:
                    postmortem = update_postmortem(postmortem=postmortem, by=request.user, version=postmortem.version,
                                                   **fields)
        except PostmortemConflict as exc:
            raise _conflict(exc) from exc
        return _postmortem_answer(request, postmortem, status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="A postmortem, with its timeline", parameters=[ID]),
    patch=extend_schema(summary="Edit a postmortem from the version you read (optimistic locking)", parameters=[ID],
                        request=PostmortemUpdateSerializer,
                        responses={200: PostmortemDetailSerializer, 409: CONFLICT}),
)
class PostmortemDetail(generics.GenericAPIView):
    serializer_class = PostmortemDetailSerializer
    filter_backends: list = []

    def get(self, request, pk):
        return Response(PostmortemDetailSerializer(_find_postmortem(request, pk), context={"request": request}).data)

    def patch(self, request, pk):
        postmortem = _find_postmortem(request, pk)
        data = PostmortemUpdateSerializer(data=request.data, context={
            "request": request, "users": assignable_people(postmortem.incident, request.user)})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        factors = fields.pop("contributing_factors", None)
        if factors is not None:
            tags = {tag.name.lower(): tag for tag in factor_tags_for(postmortem.incident.team)}
            tags.update({f.tag.name.lower(): f.tag for f in postmortem.factors.all()})  # retired ones stay usable
            unknown = [f["tag"] for f in factors if f["tag"].strip().lower() not in tags]
            if unknown:
                raise ValidationError({"contributing_factors": [
                    f"Unknown factor tag {unknown[0]!r}; use a tag of team {postmortem.incident.team.slug} or one "
                    "every team shares (see /postmortems/factors/)."]})
            factors = [(tags[f["tag"].strip().lower()], f.get("description", "")) for f in factors]
        try:
            postmortem = update_postmortem(postmortem=postmortem, by=request.user, factors=factors, **fields)
        except PostmortemConflict as exc:
            raise _conflict(exc) from exc
        return _postmortem_answer(request, postmortem)


@extend_schema_view(post=extend_schema(
    operation_id="v1_postmortems_transition", summary="Move a postmortem through its review",
    parameters=[ID, TRANSITION], request=PostmortemTransitionSerializer,
    responses={200: PostmortemDetailSerializer, 409: CONFLICT},
))
class PostmortemTransition(generics.GenericAPIView):
    serializer_class = PostmortemTransitionSerializer
    filter_backends: list = []

    def post(self, request, pk, transition):
        postmortem = _find_postmortem(request, pk)
        data = PostmortemTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            postmortem = transition_postmortem(postmortem=postmortem, transition=transition, by=request.user,
                                               note=data.validated_data.get("note", ""))
        except PostmortemConflict as exc:
            raise _conflict(exc) from exc
        return _postmortem_answer(request, postmortem)


@extend_schema_view(
    post=extend_schema(
        operation_id="v1_postmortems_meeting_schedule", summary="Schedule the review meeting, or move it",
        description="Each attendee is e-mailed a calendar invitation (.ics, METHOD:REQUEST); moving it sends the "
                    "same event (uid) with sequence + 1, and a cancellation to anyone no longer invited. Fields "
                    "left out keep the scheduled meeting's values. 400 for a time in the past or an attendee who "
                    "may not see the incident.",
        parameters=[ID], request=MeetingScheduleSerializer, responses={200: PostmortemDetailSerializer}),
    delete=extend_schema(
        operation_id="v1_postmortems_meeting_cancel", summary="Cancel the review meeting",
        description="Every attendee is e-mailed the event's cancellation (METHOD:CANCEL). 409 "
                    "meeting_not_scheduled when there is none, meeting_over once it has taken place.",
        parameters=[ID], request=None, responses={200: PostmortemDetailSerializer, 409: CONFLICT}),
)
class PostmortemMeeting(generics.GenericAPIView):
    serializer_class = MeetingScheduleSerializer
    filter_backends: list = []

    def post(self, request, pk):
        postmortem = _find_postmortem(request, pk)
        data = MeetingScheduleSerializer(data=request.data, context={
            "request": request, "users": User.objects.filter(is_active=True)})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        current = meeting_of(postmortem)
        if current is not None and current.cancelled_at is None:  # a move: what is left out stays
            fields.setdefault("starts_at", current.starts_at)
            fields.setdefault("duration_minutes", current.duration_minutes)
            fields.setdefault("location", current.location)
            fields.setdefault("attendees", list(current.attendees.all()))
        missing = [name for name in ("starts_at", "attendees") if name not in fields]
        if missing:
            raise ValidationError({name: ["This field is required to schedule the meeting."] for name in missing})
        try:
            schedule_meeting(postmortem=postmortem, by=request.user, **fields)
        except PostmortemConflict as exc:
            raise _conflict(exc) from exc
        return _postmortem_answer(request, postmortem)

    def delete(self, request, pk):
        postmortem = _find_postmortem(request, pk)
        try:
            cancel_meeting(postmortem=postmortem, by=request.user)
        except PostmortemConflict as exc:
            raise _conflict(exc) from exc
        return _postmortem_answer(request, postmortem)


# --- Action items --------------------------------------------------------------------

ITEM_FILTERS = [
    OpenApiParameter("postmortem", str, description="A postmortem's id: its action items."),
    OpenApiParameter("incident", str, description="An incident's number: its action items."),
    OpenApiParameter("owner", str, description="A username: the items they own."),
    OpenApiParameter("team", str, description="A team's slug: the items of its incidents."),
    OpenApiParameter("status", str, enum=ActionItemStatus.values, description="Only items in this status."),
    OpenApiParameter("overdue", bool, description="true: only open or in progress ones past due."),
]


def _find_item(request, pk):
    item = action_items_for(request.user).filter(pk=pk).first()
    if item is None:
        raise NotFound(f"No action item {pk} among the action items of your teams' incidents.")
    return item


def _item_answer(request, item, code=status.HTTP_200_OK) -> Response:
    fresh = _find_item(request, item.pk)
    return Response(ActionItemSerializer(fresh, context={"request": request}).data, status=code)


@extend_schema_view(
    get=extend_schema(summary="Action items of your teams' incidents (open first, by priority and due date)",
                      parameters=ITEM_FILTERS),
    post=extend_schema(summary="Add an action item to a postmortem, or straight to an incident",
                       request=ActionItemCreateSerializer, responses={201: ActionItemSerializer}),
)
class ActionItemList(generics.ListCreateAPIView):
    serializer_class = ActionItemSerializer
    filter_backends: list = []

    def get_queryset(self):
        qs = action_items_for(self.request.user)
        params = self.request.query_params
        if postmortem := params.get("postmortem"):
            qs = qs.filter(incident__postmortem__pk=parse_id(postmortem) or 0)
        if incident := params.get("incident"):
            qs = qs.filter(incident__number=incident.strip().upper())
        if owner := params.get("owner"):
            qs = qs.filter(owner__username=owner)
        if team := params.get("team"):
            qs = qs.filter(incident__team__slug=team)
        if state := params.get("status"):
            if state not in ActionItemStatus.values:
                raise ValidationError({"status": [f"Unknown status {state!r}; use {', '.join(ActionItemStatus.values)}."]})
            qs = qs.filter(status=state)
        if _flag(params.get("overdue")):
            qs = qs.overdue(timezone.now())
        return sort_action_items(qs)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def create(self, request, *args, **kwargs):
        # Any active person reads as a username here; the service then refuses an owner who does not work
        # the incident, naming the field.
        data = ActionItemCreateSerializer(data=request.data, context={
            "request": request, "users": User.objects.filter(is_active=True)})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        incident = fields.pop("incident", None)
        if "postmortem" in fields:
            pk = fields.pop("postmortem")
            postmortem = postmortems_for(request.user).filter(pk=pk).first()
            if postmortem is None:
                raise ValidationError({"postmortem": [f"Unknown postmortem {pk}; give the id of a postmortem of "
                                                      "your teams' incidents."]})
            if incident is not None and incident.pk != postmortem.incident_id:
                raise ValidationError({"incident": [f"{incident.number} is not the incident of postmortem "
                                                    f"{postmortem.pk}; give one or the other."]})
            incident = postmortem.incident
        item = create_action_item(incident=incident, by=request.user, **fields)
        return _item_answer(request, item, status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="An action item", parameters=[ID]),
    patch=extend_schema(summary="Change an action item, or its status", parameters=[ID],
                        request=ActionItemUpdateSerializer,
                        responses={200: ActionItemSerializer, 409: CONFLICT}),
)
class ActionItemDetail(generics.GenericAPIView):
    serializer_class = ActionItemSerializer
    filter_backends: list = []

    def get(self, request, pk):
        return Response(ActionItemSerializer(_find_item(request, pk), context={"request": request}).data)

    def patch(self, request, pk):
        item = _find_item(request, pk)
        data = ActionItemUpdateSerializer(data=request.data, partial=True, context={
            "request": request, "users": assignable_people(item.incident, request.user)})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        target, reason = fields.pop("status", None), fields.pop("wont_do_reason", "")
        try:
            with transaction.atomic():
                if fields:
                    item = update_action_item(item=item, by=request.user, **fields)
                if target is not None:
                    item = set_action_item_status(item=item, status=target, by=request.user, reason=reason)
        except PostmortemConflict as exc:
            raise _conflict(exc) from exc
        return _item_answer(request, item)


class TrackerFailed(APIException):
    """502: the issue tracker refused or did not answer; the detail is its reason, and nothing was saved."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "tracker_error"


@extend_schema_view(post=extend_schema(
    summary="Send an action item to an issue tracker of its incident's team, as a new issue (once)",
    parameters=[ID], request=ActionItemSendSerializer,
    responses={200: ActionItemSerializer,
               409: OpenApiResponse(description="Sent already: `code` already_sent, with its `external_url`."),
               502: OpenApiResponse(description="The tracker refused or did not answer (`code` tracker_error, its "
                                                "reason in `detail`); nothing was saved.")},
))
class ActionItemSend(generics.GenericAPIView):
    serializer_class = ActionItemSerializer
    filter_backends: list = []

    def post(self, request, pk):
        item = _find_item(request, pk)
        data = ActionItemSendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tracker_id = data.validated_data["tracker"]
        tracker = IssueTracker.objects.filter(pk=tracker_id, team=item.incident.team_id, active=True).first()
        if tracker is None:
            raise ValidationError({"tracker": [f"Unknown tracker {tracker_id}; give the id of an active issue "
                                               f"tracker of team {item.incident.team.slug}."]})
        try:
            item = send_action_item(item=item, tracker=tracker, by=request.user, site=site_url(request))
        except PostmortemConflict as exc:
            raise _conflict(exc) from exc
        except TrackerError as exc:
            raise TrackerFailed(str(exc)) from exc
        return _item_answer(request, item)
