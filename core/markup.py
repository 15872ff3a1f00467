"""Markdown written by people (runbooks, postmortems) as HTML that is safe to show.

Python-Markdown with fenced code and tables, then nh3: no scripts, no event handlers, links made
``noopener noreferrer nofollow``.
"""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe


def markdown_html(text: str) -> SafeString:
    if not text.strip():
        return mark_safe("")
    html = markdown.markdown(text, extensions=["fenced_code", "tables"])
    return mark_safe(nh3.clean(html, link_rel="noopener noreferrer nofollow"))  # noqa: S308
