""""Notification settings" (/paging/me/): my contact methods, notification rules, working hours, subscriptions.

Thin: each form posts to its own URL, which validates, calls one service and
redirects back with a message, so everything works without JavaScript. Only
the person's own methods, rules and subscriptions are found here: another
person's id is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from incidents.models import Service
from oncall.models import Team
from oncall.services import set_slack_user_id

from ..forms.profile import (
    ContactMethodForm,
    RuleForm,
    SlackIdForm,
    SubscriptionForm,
    VerifyForm,
    WorkingHoursForm,
)
from ..models import ContactMethod, NotificationRule, PagingProfile, Subscription, Urgency
from ..services import contacts
from ..services.subscriptions import subscribe, unsubscribe


def _errors(request, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            for problem in problems:
                messages.error(request, problem if field == "__all__" else f"{field.replace('_', ' ')}: {problem}")
    else:
        for problem in error.messages:
            messages.error(request, problem)


def _form_errors(request, form) -> None:
    for field, problems in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ") if field in form.fields else ""
        for problem in problems:
            messages.error(request, f"{label}: {problem}" if label else problem)


def _back():
    return redirect("paging-profile")


def _own_method(request, pk: int) -> ContactMethod:
    method = ContactMethod.objects.select_related("user").filter(pk=pk, user=request.user).first()
    if method is None:
        raise Http404("No such contact method among yours.")
    return method


def _visible_targets(user) -> tuple[list[Team], list[Service]]:
    teams = list(Team.objects.visible_to(user).order_by("name").distinct())
    services = list(Service.objects.filter(team__in=[t.pk for t in teams]).select_related("team").order_by("name"))
    return teams, services


def rule_sentences(rules) -> list[dict]:
    """Per urgency, its rules in a sentence: "High urgency: E-mail at once; SMS after 2 min"."""
    out = []
    for urgency, label in ((Urgency.HIGH, "High urgency"), (Urgency.LOW, "Low urgency")):
        mine = [r for r in rules if r.urgency == urgency]
        for rule in mine:
            rule.when = contacts.describe_delay(rule.delay_minutes)
        usable = [r for r in mine if r.contact_method.verified]
        parts = [f"{r.contact_method.get_kind_display()} {r.contact_method.address} "
                 f"{contacts.describe_delay(r.delay_minutes)}" for r in usable]
        if parts:
            sentence = f"{label}: {'; '.join(parts)}."
        else:
            sentence = f"{label}: no rule with a verified method, so your account e-mail at once."
        out.append({"urgency": urgency, "label": label, "sentence": sentence, "rules": mine,
                    "unverified": len(mine) - len(usable)})
    return out


@login_required
def profile(request):
    user = request.user
    methods = list(ContactMethod.objects.filter(user=user).order_by("kind", "id"))
    rules = list(NotificationRule.objects.filter(user=user).select_related("contact_method")
                 .order_by("urgency", "delay_minutes", "id"))
    hours = PagingProfile.objects.filter(user=user).first()
    subscriptions = list(Subscription.objects.filter(user=user)
                         .select_related("team", "service__team", "min_severity").order_by("id"))
    teams, services = _visible_targets(user)
    verified = ContactMethod.objects.filter(user=user, verified_at__isnull=False).order_by("kind", "id")
    context = {
        "methods": methods,
        "urgencies": rule_sentences(rules),
        "hours": hours,
        "subscriptions": subscriptions,
        "method_form": ContactMethodForm(),
        "rule_form": RuleForm(methods=verified),
        "has_verified": any(m.verified for m in methods),
        "hours_form": WorkingHoursForm(initial={
            "hold_low_urgency": hours.hold_low_urgency, "work_days": hours.work_days,
            "work_start": hours.work_start, "work_end": hours.work_end,
        } if hours else {"work_days": [0, 1, 2, 3, 4]}),
        "subscription_form": SubscriptionForm(teams=teams, services=services),
        "slack_form": SlackIdForm(initial={"slack_user_id": user.slack_user_id}),
        "work_day_names": ", ".join(contacts.WEEKDAYS[d] for d in hours.work_days) if hours else "",
    }
    return render(request, "paging/profile.html", context)


# --- Contact methods ------------------------------------------------------------------------------

@login_required
@require_POST
def method_add(request):
    form = ContactMethodForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back()
    try:
        method = contacts.add_contact_method(user=request.user, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        _errors(request, error)
        return _back()
    try:
        contacts.send_verification(method=method, by=request.user)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, f"Added {method.get_kind_display()} {method.address}. A 6-digit code is on its "
                                  "way to it: enter it below to verify the method; only verified methods page you.")
    return _back()


@login_required
@require_POST
def method_send_code(request, pk):
    method = _own_method(request, pk)
    try:
        contacts.send_verification(method=method, by=request.user)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, f"A 6-digit code is on its way to {method.address}; it works for 15 minutes.")
    return _back()


@login_required
@require_POST
def method_verify(request, pk):
    method = _own_method(request, pk)
    form = VerifyForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back()
    try:
        contacts.verify_contact_method(method=method, code=form.cleaned_data["code"], by=request.user)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, f"{method.get_kind_display()} {method.address} is verified: rules may use it now.")
    return _back()


@login_required
@require_POST
def method_test(request, pk):
    method = _own_method(request, pk)
    try:
        contacts.send_test(method=method, by=request.user)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, f"A test message is on its way to {method.address}.")
    return _back()


@login_required
@require_POST
def method_delete(request, pk):
    method = _own_method(request, pk)
    contacts.delete_contact_method(method=method, by=request.user)
    messages.success(request, f"Deleted {method.get_kind_display()} {method.address} and its rules. Whenever no "
                              "rule of yours names a verified method, pages go to your account e-mail at once.")
    return _back()


# --- Rules ----------------------------------------------------------------------------------------

@login_required
@require_POST
def rule_add(request):
    verified = ContactMethod.objects.filter(user=request.user, verified_at__isnull=False)
    form = RuleForm(request.POST, methods=verified)
    if not form.is_valid():
        _form_errors(request, form)
        return _back()
    try:
        rule = contacts.add_rule(user=request.user, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, f"{rule.get_urgency_display()}: {contacts.describe_rule_parts(rule.contact_method, rule.delay_minutes)}.")
    return _back()


@login_required
@require_POST
def rule_delete(request, pk):
    rule = NotificationRule.objects.select_related("user").filter(pk=pk, user=request.user).first()
    if rule is None:
        raise Http404("No such rule among yours.")
    contacts.delete_rule(rule=rule, by=request.user)
    messages.success(request, "Rule deleted.")
    return _back()


# --- Working hours and Slack ----------------------------------------------------------------------

@login_required
@require_POST
def hours_set(request):
    form = WorkingHoursForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back()
    try:
        contacts.set_working_hours(user=request.user, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, f"Working hours saved (in {request.user.timezone}).")
    return _back()


@login_required
@require_POST
def slack_set(request):
    form = SlackIdForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _back()
    try:
        user = set_slack_user_id(user=request.user, slack_user_id=form.cleaned_data["slack_user_id"], by=request.user)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, f"Slack member id set to {user.slack_user_id}." if user.slack_user_id
                         else "Slack member id removed.")
    return _back()


# --- Subscriptions --------------------------------------------------------------------------------

@login_required
@require_POST
def subscription_add(request):
    teams, services = _visible_targets(request.user)
    form = SubscriptionForm(request.POST, teams=teams, services=services)
    if not form.is_valid():
        _form_errors(request, form)
        return _back()
    target = form.cleaned_data["target"]
    kwargs = {"team": target} if isinstance(target, Team) else {"service": target}
    try:
        sub = subscribe(user=request.user, min_severity=form.cleaned_data["min_severity"], by=request.user, **kwargs)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, f"Subscribed to {target.name} from {sub.min_severity.name}: you will be told "
                                  "(by e-mail, not paged) when such an incident is declared, changes severity or is "
                                  "resolved.")
    return _back()


@login_required
@require_POST
def subscription_delete(request, pk):
    sub = Subscription.objects.select_related("user", "team", "service").filter(pk=pk, user=request.user).first()
    if sub is None:
        raise Http404("No such subscription among yours.")
    unsubscribe(subscription=sub, by=request.user)
    messages.success(request, f"Unsubscribed from {sub.team or sub.service}.")
    return _back()


urlpatterns = [
    path("paging/me/", profile, name="paging-profile"),
    path("paging/me/methods/", method_add, name="paging-method-add"),
    path("paging/me/methods/<id:pk>/send-code/", method_send_code, name="paging-method-send-code"),
    path("paging/me/methods/<id:pk>/verify/", method_verify, name="paging-method-verify"),
    path("paging/me/methods/<id:pk>/test/", method_test, name="paging-method-test"),
    path("paging/me/methods/<id:pk>/delete/", method_delete, name="paging-method-delete"),
    path("paging/me/rules/", rule_add, name="paging-rule-add"),
    path("paging/me/rules/<id:pk>/delete/", rule_delete, name="paging-rule-delete"),
    path("paging/me/hours/", hours_set, name="paging-hours"),
    path("paging/me/slack/", slack_set, name="paging-slack"),
    path("paging/me/subscriptions/", subscription_add, name="paging-subscription-add"),
    path("paging/me/subscriptions/<id:pk>/delete/", subscription_delete, name="paging-subscription-delete"),
]
