"""The HTTP client of the channels that post (Slack, webhooks, SMS and voice providers).

One place for what they share: an explicit timeout (``PAGING_HTTP_TIMEOUT_SECONDS``),
no redirects followed (a webhook that moved says so, rather than Vigil posting
a page somewhere it was not told to), and the reading of an answer as success,
"try again later" (a timeout, 408, 429, 5xx) or "retrying will not help"
(any other 4xx, a bad URL).
"""

import re

import httpx
from django.conf import settings

from . import DeliveryError

USER_AGENT = "Vigil-Paging/1"
# An error body worth quoting: a bare code such as Slack's "no_service" or "invalid_token".
# Anything longer is left out: the answer of a URL a person typed is not Vigil's to display.
_ERROR_CODE = re.compile(r"[a-z_]{1,60}")


def post(url: str, *, what: str, **kwargs) -> httpx.Response:
    """POST to ``url``; a timeout or a connection failure is a ``DeliveryError`` worth retrying.

    ``what`` names the receiver in error messages ("Slack", "The webhook at example.com"). Errors
    never quote the URL: it may carry a secret (a Slack incoming webhook's), and a delivery's
    error is shown on the incident's timeline.
    """
    timeout = settings.PAGING_HTTP_TIMEOUT_SECONDS
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT}) as client:
            return client.post(url, **kwargs)
    except httpx.UnsupportedProtocol:
        raise DeliveryError(f"{what}: the address is not an http(s) URL", retry=False) from None
    except httpx.InvalidURL:
        raise DeliveryError(f"{what}: the address is not a valid URL", retry=False) from None
    except httpx.TimeoutException:
        raise DeliveryError(f"{what} did not answer within {timeout:g} s", retry=True) from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"Could not reach {what}: {exc}", retry=True) from None


def transient(status: int) -> bool:
    """Whether an HTTP error status may go away by itself: a timeout, a rate limit, a server error."""
    return status in (408, 429) or status >= 500


def refusal(response: httpx.Response, *, what: str) -> DeliveryError | None:
    """None for a 2xx; otherwise the error to raise, retrying only what may go away by itself."""
    if response.is_success:
        return None
    status = response.status_code
    message = f"{what} answered {status} {response.reason_phrase}".rstrip()
    code = response.text.strip()[:61]
    if _ERROR_CODE.fullmatch(code):
        message += f" ({code})"
    if response.is_redirect:
        message += f"; give the address it redirects to ({response.headers.get('Location', '')[:200]})"
    return DeliveryError(message, retry=transient(status))
