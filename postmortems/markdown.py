"""Postmortem sections as HTML: Markdown through the same sanitiser as runbooks (``Service.runbook_html``).

Python-Markdown with fenced code and tables, then nh3 (no scripts, no event handlers, links made
``noopener noreferrer nofollow``), then headings moved down so that a section's "# Title" does not
outrank the page's own headings.
"""

from django.utils.safestring import SafeString

from core.markup import markdown_html
from incidents.views.common import demote_headings


def render(text: str) -> SafeString:
    """``text`` (Markdown) as sanitised HTML, its headings starting at h3."""
    return demote_headings(markdown_html(text), levels=2)
