"""The HTTP client every source adapter reads its tool's REST API with.

One place for what they share: a timeout, no redirects followed, a rate limit
waited out (``Retry-After`` honoured, else 1, 2, 4… seconds, at most
``MAX_TRIES`` tries, never more than ``MAX_WAIT_SECONDS`` a wait), and errors a
person can act on for a bad token, a wrong URL or a tool that is down. Tokens
never appear in an error message.
"""

import time
from collections.abc import Callable

import httpx

USER_AGENT = "Vigil-Importer/1"
TIMEOUT_SECONDS = 30
MAX_TRIES = 6
MAX_WAIT_SECONDS = 120


class SourceError(Exception):
    """The source could not be read; the message says what to fix."""


class Client:
    def __init__(self, *, base_url: str, headers: dict, what: str, token_hint: str,
                 sleep: Callable[[float], None] = time.sleep):
        """``what`` names the tool in messages ("PagerDuty"); ``token_hint`` says where a valid token comes from."""
        if not base_url.startswith(("https://", "http://")):
            raise SourceError(f"{base_url!r} is not an http(s) URL; give the {what} REST API's address.")
        self.base_url = base_url.rstrip("/")
        self.what, self.token_hint, self.sleep = what, token_hint, sleep
        self.waited: list[float] = []  # each rate-limit wait, in seconds (shown in the report)
        self._http = httpx.Client(base_url=self.base_url, timeout=TIMEOUT_SECONDS, follow_redirects=False,
                                  headers={"User-Agent": USER_AGENT, **headers})

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _wait(self, response: httpx.Response, attempt: int) -> float:
        try:
            seconds = float(response.headers.get("Retry-After", ""))
        except ValueError:
            seconds = 2.0 ** attempt
        return min(max(seconds, 0.0), MAX_WAIT_SECONDS)

    def get(self, path: str, params: dict | list | None = None) -> dict:
        """GET ``path`` as JSON; a rate limit (429) is waited out, anything else not 2xx is a SourceError."""
        where = f"{self.what} at {self.base_url}"
        for attempt in range(MAX_TRIES):
            try:
                response = self._http.get(path, params=params)
            except httpx.TimeoutException:
                raise SourceError(f"{where} did not answer within {TIMEOUT_SECONDS} s.") from None
            except httpx.HTTPError as exc:
                raise SourceError(f"Could not reach {where}: {exc}. Check --url.") from None
            if response.status_code == 429 and attempt + 1 < MAX_TRIES:
                wait = self._wait(response, attempt)
                self.waited.append(wait)
                self.sleep(wait)
                continue
            break
        status = response.status_code
        if status == 401:
            raise SourceError(f"{where} refused the token (401 Unauthorized): {self.token_hint}")
        if status == 403:
            raise SourceError(f"{where} answered 403 Forbidden for {path}: the token may read this account but "
                              f"not this; use a token with read access to everything ({self.token_hint})")
        if status == 404:
            raise SourceError(f"{where} answered 404 Not Found for {path}: is --url the {self.what} REST API's "
                              "address?")
        if status == 429:
            raise SourceError(f"{where} kept answering 429 Too Many Requests after {MAX_TRIES} tries; "
                              "try again later.")
        if response.is_redirect:
            raise SourceError(f"{where} redirects to {response.headers.get('Location', '')[:200]}; give that "
                              "address as --url.")
        if not response.is_success:
            raise SourceError(f"{where} answered {status} {response.reason_phrase} for {path}.")
        try:
            return response.json()
        except ValueError:
            raise SourceError(f"{where} did not answer {path} with JSON: is --url the {self.what} REST API's "
                              "address (not its web page)?") from None
