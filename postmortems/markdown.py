"""Postmortem sections as HTML: Markdown through the same sanitiser as runbooks (``Service.runbook_html``).

Python-Markdown with fenced code and tables, then nh3 (no scripts, no event handlers, links made
``noopener noreferrer nofollow``), then headings moved down so that a section's "# Title" does not
outrank the page's own headings.
"""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

from incidents.views.common import demote_headings


def render(text: str) -> SafeString:
    """``text`` (Markdown) as sanitised HTML, its headings starting at h3."""
    if not text.strip():
        return mark_safe("")
    html = markdown.markdown(text, extensions=["fenced_code", "tables"])
    return demote_headings(mark_safe(nh3.clean(html, link_rel="noopener noreferrer nofollow")), levels=2)  # noqa: S308
