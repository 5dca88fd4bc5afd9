"""Every page of the tool is reachable from the demo platform: each demo person launches through the
demo's real OIDC flow and follows the links they are shown; every link answers, and together they
reach every page the tool has."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import resolve

from lti_plugin.lti.demo.platform import ensure_registered
from lti_plugin.lti.demo.seed import seed_demo
from tests.lti.test_two_processes import FormParser

PEOPLE = [("solbacka", "101", "s-11"), ("solbacka", "101", "s-12"), ("solbacka", "101", "s-13"),
          ("solbacka", "101", "s-21"), ("solbacka", "101", "s-31"), ("solbacka", "102", "s-15"),
          ("solbacka", "101", "s-41"), ("aland", "202", "a-16"), ("aland", "201", "a-14")]
# Pages reached by a form, not a link (their forms are on the pages walked).
POSTED = {"case-action", "course-pupil-action", "registration-approve", "staff-grant", "staff-revoke",
          "course-map"}
NOT_IN_THE_DEMO = {"expert-group", "welfare-group"}  # `fi` only; the demo has no Finnish organisation


def demo_launch(client: Client, org: str, course: str, person: str) -> str:
    """The demo page's Launch button, as a browser follows it; the landing page's path."""
    start = client.get("/demo/start/", {"org": org, "course": course, "person": person, "message": "launch",
                                        "names": "1", "locale": "sv"})
    parser = FormParser()
    parser.feed(start.content.decode())
    login = client.post(urlsplit(parser.action).path, parser.fields)
    assert login.status_code == 302, login.content[:300]
    auth = client.get(login["Location"])
    parser = FormParser()
    parser.feed(auth.content.decode())
    launch = client.post(urlsplit(parser.action).path, parser.fields)
    assert launch.status_code == 302, launch.content[:300]
    return urlsplit(launch["Location"]).path


def walk(client: Client, start: str, limit: int = 80) -> set[str]:
    """Follow the tool's links breadth first; each must answer 200; the URL names reached."""
    seen, queue, names = {start}, [start], set()
    while queue and len(seen) <= limit:
        path = queue.pop(0)
        response = client.get(path, follow=True)  # the IT admin's start page leads to the registrations
        assert response.status_code == 200, (path, response.status_code)
        names.add(resolve(urlsplit(path).path).url_name)
        names.add(resolve(response.request["PATH_INFO"]).url_name)
        if "text/html" not in response["Content-Type"]:
            continue
        for link in re.findall(r'href="(/app/[^"#]*)"', response.content.decode()):
            link = link.replace("&amp;", "&")
            if "format=pdf" in link and any("format=pdf" in s for s in seen):
                continue
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return names


@pytest.mark.django_db
def test_every_page_is_reachable_from_the_demo_platform() -> None:
    registration = ensure_registered("http://testserver")
    seed_demo(registration, today=date.today())
    reached: set[str] = set()
    for org, course, person in PEOPLE:
        client = Client()
        reached |= walk(client, demo_launch(client, org, course, person))
    from frontend.urls import urlpatterns

    pages = {pattern.name for pattern in urlpatterns} - POSTED - NOT_IN_THE_DEMO
    assert pages - reached == set(), f"not reachable from the demo: {sorted(pages - reached)}"
