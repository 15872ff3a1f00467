"""SMS replies: ``POST /api/v1/paging/sms/inbound/``, where the SMS provider posts each text it receives.

Point the number's "a message comes in" webhook here (Twilio: Phone Numbers
→ the number → Messaging → "A message comes in", HTTP POST). A plain Django
view, not DRF: the caller is the provider, with its own form body (``From``,
``Body``, …), its own proof of origin and its own answer format (TwiML).

The request must carry ``X-Twilio-Signature``, the base64 HMAC-SHA1 of this
endpoint's full URL and the sorted form parameters keyed by the auth token of
one of ``PAGING_SMS_PROVIDERS`` (compared in constant time); otherwise 403.
The URL signed is ``SITE_URL`` + the path when ``SITE_URL`` is set (behind a
proxy the provider signs the public address), else the address the request
came in at. A signed text is answered with TwiML
``<Response><Message>…</Message></Response>`` saying what came of it
(``paging.services.replies.acknowledge_by_reply``), always 200: the provider
texts that answer back to the sender.
"""

from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.links import site_url

from ..channels.sms import signed_by_a_provider
from ..services.replies import acknowledge_by_reply


def twiml_message(text: str) -> HttpResponse:
    return HttpResponse(f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(text)}</Message></Response>',
                        content_type="text/xml; charset=utf-8")


@csrf_exempt
@require_POST
def sms_inbound(request):
    url = site_url(request) + request.get_full_path()
    if not signed_by_a_provider(url, request.POST, request.headers.get("X-Twilio-Signature", "")):
        return HttpResponse("The X-Twilio-Signature header does not match this request signed with the auth "
                            "token of a provider in PAGING_SMS_PROVIDERS.", status=403, content_type="text/plain")
    reply = acknowledge_by_reply(from_number=request.POST.get("From", ""), body=request.POST.get("Body", ""))
    return twiml_message(reply.text)


urlpatterns = [
    path("paging/sms/inbound/", sms_inbound, name="paging-sms-inbound"),
]
