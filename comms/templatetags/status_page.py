"""``{% uptime_days view.uptime %}``: a component's row of days on the public status page.

One ``<span>`` a day, coloured by its status and titled with its date and status. Built here rather than
by a loop in the template: 20 components make 1,800 days, and the template loop was most of the page's
render time (about 4 times this).
"""

from django import template
from django.utils.html import format_html_join

register = template.Library()


@register.simple_tag
def uptime_days(days):
    return format_html_join("", '<span class="sp-day sp-{}" title="{}: {}"></span>',
                            ((day.status, day.day.isoformat(), day.label) for day in days))
