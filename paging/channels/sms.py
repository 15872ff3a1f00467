"""SMS through a Twilio-compatible REST API, with a list of providers tried in order.

``PAGING_SMS_PROVIDERS`` lists them (``{name, base_url, account_sid,
auth_token, from}``; ``TWILIO_*`` adds Twilio itself). A message is posted to
``{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json`` as a form
(``To``, ``From``, ``Body``) with HTTP basic auth (sid, token). A provider that
fails — a timeout, a refused connection, a 5xx, a 401/403 or any other
refusal — is skipped and the next one tried, so one provider's outage does
not silence pages; the notification's ``provider`` says which one took it.
When all fail, the error names each one's answer, and the delivery is retried
if any of them might answer differently later.

Replies come back through ``paging.api.inbound``, signed the Twilio way
(``twilio_signature``) with a provider's auth token.
"""

import base64
import hashlib
import hmac
import re

from django.conf import settings

from . import DeliveryError, http

E164 = re.compile(r"\+[1-9]\d{6,14}")
MAX_BODY = 1600  # Twilio's limit for one message (it splits it into segments)


def check_e164(address: str) -> str:
    """The address if it is an E.164 number (``+`` and 7 to 15 digits); a DeliveryError without retry otherwise."""
    number = address.strip()
    if not E164.fullmatch(number):
        raise DeliveryError(f"{address!r} is not an E.164 phone number: write + and the country code, then "
                            "digits only, no spaces (e.g. +4915123456789)", retry=False)
    return number


def providers() -> list[dict]:
    configured = settings.PAGING_SMS_PROVIDERS
    if not configured:
        raise DeliveryError("No SMS provider is configured: set PAGING_SMS_PROVIDERS (a JSON list of "
                            "{name, base_url, account_sid, auth_token, from}) or TWILIO_ACCOUNT_SID, "
                            "TWILIO_AUTH_TOKEN and TWILIO_FROM", retry=False)
    return configured


def _detail(response) -> str:
    """The provider's own explanation (Twilio: ``{"code": 21211, "message": "…"}``), short."""
    try:
        answer = response.json()
    except ValueError:
        return ""
    if isinstance(answer, dict) and answer.get("message"):
        code = f" {answer['code']}" if answer.get("code") else ""
        return f":{code} {str(answer['message'])[:200]}"
    return ""


class SmsChannel:
    resource = "Messages.json"
    medium = "SMS"

    def form(self, notification, to: str, provider: dict) -> dict:
        return {"To": to, "From": provider["from"], "Body": notification.body[:MAX_BODY]}

    def send(self, notification) -> str:
        to = check_e164(notification.address)
        errors, retry = [], False
        for provider in providers():
            name = provider["name"]
            url = f"{provider['base_url']}/2010-04-01/Accounts/{provider['account_sid']}/{self.resource}"
            try:
                response = http.post(url, what=name, data=self.form(notification, to, provider),
                                     auth=(provider["account_sid"], provider["auth_token"]))
            except DeliveryError as error:
                errors.append(str(error))
                retry = retry or error.retry
                continue
            if response.is_success:
                return name
            errors.append(f"{name} answered {response.status_code}{_detail(response)}")
            retry = retry or http.transient(response.status_code)
        raise DeliveryError(f"No provider took the {self.medium}: " + "; ".join(errors), retry=retry)


def twilio_signature(auth_token: str, url: str, params) -> str:
    """Twilio's ``X-Twilio-Signature``: base64 HMAC-SHA1 of the full URL followed by each
    POST parameter's name and value, sorted by name (``params`` is a QueryDict or a dict)."""
    data = url
    for name in sorted(params):
        values = params.getlist(name) if hasattr(params, "getlist") else [params[name]]
        for value in sorted(values):
            data += name + value
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_by_a_provider(url: str, params, signature: str) -> bool:
    """Whether ``signature`` is the Twilio signature of this request under any configured provider's token."""
    if not signature:
        return False
    matches = [hmac.compare_digest(twilio_signature(p["auth_token"], url, params).encode(), signature.encode())
               for p in settings.PAGING_SMS_PROVIDERS]
    return any(matches)
