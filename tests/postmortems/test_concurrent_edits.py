"""Several people edit a postmortem: a save that would overwrite someone else's newer save is refused with a
message (optimistic locking), and neither text is lost."""

import pytest

from postmortems.models import Postmortem
from postmortems.services import EditConflict, NotEditable, update_postmortem

from .test_closing import publish

pytestmark = pytest.mark.django_db


def test_two_saves_from_the_same_version_the_second_is_refused_and_the_first_kept(postmortem, alice, bob):
    version = postmortem.version
    update_postmortem(postmortem=postmortem, by=alice, version=version, lessons="Alerts on certificate expiry.")
    with pytest.raises(EditConflict, match="Alice Archer saved this postmortem after you opened it"):
        update_postmortem(postmortem=postmortem, by=bob, version=version, lessons="Bob's lessons.")
    saved = Postmortem.objects.get()
    assert saved.lessons == "Alerts on certificate expiry." and saved.version == version + 1


def test_a_save_from_the_current_version_goes_through(postmortem, alice, bob):
    first = update_postmortem(postmortem=postmortem, by=alice, version=postmortem.version, lessons="One.")
    second = update_postmortem(postmortem=postmortem, by=bob, version=first.version, went_well="Paging worked.")
    assert (second.lessons, second.went_well, second.version) == ("One.", "Paging worked.", postmortem.version + 2)


def test_a_save_that_changes_nothing_does_not_bump_the_version(postmortem, alice):
    same = update_postmortem(postmortem=postmortem, by=alice, version=postmortem.version, summary=postmortem.summary)
    assert same.version == postmortem.version


def _form(postmortem, **fields):
    data = {name: getattr(postmortem, name) or "" for name in (
        "summary", "impact", "budget_consumed", "root_cause", "detection", "detection_sooner", "response", "went_well",
        "to_improve", "lessons")}
    data.update(version=postmortem.version, owner=postmortem.owner_id or "", due_at="2026-03-04T12:00",
                users_affected=postmortem.users_affected or "", revenue_impact="")
    data.update(fields)
    return data


def test_the_edit_page_refuses_a_stale_save_and_shows_both_texts(client, postmortem, alice, bob):
    stale = _form(postmortem)
    update_postmortem(postmortem=postmortem, by=alice, version=postmortem.version, lessons="Alice's lessons.")
    client.force_login(bob)
    response = client.post(f"/postmortems/{postmortem.pk}/edit/", {**stale, "lessons": "Bob's lessons."})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Alice Archer saved this postmortem after you opened it" in page
    assert "Alice&#x27;s lessons." in page  # theirs, to compare
    assert "Bob&#x27;s lessons." in page  # his, still in the form: nothing lost
    assert f'name="version" value="{postmortem.version + 1}"' in page  # he has now seen the newer version
    assert Postmortem.objects.get().lessons == "Alice's lessons."
    # Saving again, knowingly, replaces it.
    again = client.post(f"/postmortems/{postmortem.pk}/edit/",
                        {**stale, "version": postmortem.version + 1, "lessons": "Both lessons."})
    assert again.status_code == 302
    assert Postmortem.objects.get().lessons == "Both lessons."


def test_the_api_answers_a_stale_save_with_409(api, postmortem, alice, bob):
    url = f"/api/v1/postmortems/{postmortem.pk}/"
    version = api.as_user(alice).get(url).json()["version"]
    assert api.as_user(alice).patch(url, {"version": version, "lessons": "A."}, format="json").status_code == 200
    response = api.as_user(bob).patch(url, {"version": version, "lessons": "B."}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "stale_version" and response.json()["version"] == version + 1
    assert api.as_user(bob).get(url).json()["lessons"] == "A."


def test_an_api_edit_without_a_version_is_refused(api, postmortem, alice):
    response = api.as_user(alice).patch(f"/api/v1/postmortems/{postmortem.pk}/", {"lessons": "A."}, format="json")
    assert response.status_code == 400 and "version" in response.json()


def test_a_published_postmortem_is_not_edited_until_reopened(api, postmortem, alice, bob):
    published = publish(postmortem, owner=bob, reviewer=alice)
    with pytest.raises(NotEditable):
        update_postmortem(postmortem=published, by=bob, version=published.version, lessons="Late.")
    response = api.as_user(bob).patch(f"/api/v1/postmortems/{postmortem.pk}/",
                                      {"version": published.version, "lessons": "Late."}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "postmortem_published"


def test_markdown_is_rendered_and_sanitised(client, postmortem, alice):
    update_postmortem(postmortem=postmortem, by=alice, version=postmortem.version,
                      lessons="# Lesson\n\n**Monitor** certificates.<script>alert(1)</script>"
                              '<a href="javascript:alert(2)" onclick="x()">link</a>')
    client.force_login(alice)
    page = client.get(f"/postmortems/{postmortem.pk}/").content.decode()
    assert "<strong>Monitor</strong> certificates." in page and "<h3>Lesson</h3>" in page
    assert "<script>alert(1)" not in page and "javascript:alert(2)" not in page and "onclick" not in page
