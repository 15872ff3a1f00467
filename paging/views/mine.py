""""My pages": every page and overdue notice sent to me, newest first, with an Acknowledge button
while its incident is still triggered. ``/paging/mine/``."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path, reverse

from incidents.views.common import page as login_page

from ..queries import pages_for_user

PAGE_SIZE = 50


@login_page
def mine(request):
    """A constant number of queries per page: the count and one page of notifications with their incidents."""
    page_obj = Paginator(pages_for_user(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "paging/mine.html", {
        "page_obj": page_obj, "notifications": list(page_obj.object_list), "back": reverse("paging-mine"),
    })


urlpatterns = [
    path("paging/mine/", mine, name="paging-mine"),
]
