"""Journeys through the demo platform in a real browser: the tool inside the platform's iframe.

The tool runs as its own server process (conftest.py); Chromium runs the real OIDC flow
/demo/start/ → /lti/login/ → /demo/auth/ → /lti/launch/ inside the iframe #tool-frame.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from lti_plugin.lti.demo import data

pytestmark = pytest.mark.browser

TEACHER = "solbacka:101:s-11"  # Tove Lärare, Matematik 7A
PUPIL = "solbacka:101:s-21"  # Elsa Exempelsson
IT_ADMIN = "solbacka:101:s-41"  # Ivar Admin
PUPIL_NAMES = [person.name for org in data.ORGANISATIONS for person in org.people if person.kind == "pupil"]
# Translations may land later: the tool's role label is accepted in Swedish or English.
SUBJECT_TEACHER = re.compile(r"ämneslärare|subject teacher", re.IGNORECASE)


def launch_from_demo(page: Page, base_url: str, choice: str, *, share_names: bool = True,
                     deep: bool = False, english_tool: bool = False) -> FrameLocator:
    """Pick a course and person on the demo page as a newcomer would, and press Launch."""
    page.goto(base_url + "/demo/")
    page.get_by_label("Course and person").select_option(choice)
    if deep:
        page.get_by_label("Add the tool to the course").check()
    names = page.get_by_label("Share the person's name with the tool")
    if share_names:
        names.check()
    else:
        names.uncheck()
    if english_tool:
        page.get_by_label("Platform language").select_option("en")
    page.get_by_role("button", name="Launch").click()
    page.wait_for_url(re.compile(r"/demo/\?choice="))
    return page.frame_locator("#tool-frame")


def tool_frame_url(page: Page, path_pattern: str) -> str:
    """The iframe's current URL, once the launch has landed on `path_pattern`."""
    page.locator("#tool-frame").wait_for()
    frame = page.frame(name="tool-frame")
    assert frame is not None, "the demo page shows no #tool-frame"
    frame.wait_for_url(re.compile(path_pattern))
    return frame.url


def serious_violations(page: Page) -> list[dict]:
    """axe-core on the page's top document; violations of impact serious or critical, printed for the log."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    for violation in violations:
        targets = [node["target"] for node in violation["nodes"]][:5]
        print(f"axe {page.url}: {violation['id']} ({violation['impact']}): {violation['help']} {targets}")
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def test_newcomer_launches_as_teacher_and_sees_who_and_where(page, tool_server):
    frame = launch_from_demo(page, tool_server.base_url, TEACHER)

    expect(frame.get_by_test_id("who")).to_have_text("Tove Lärare")
    expect(frame.get_by_test_id("course")).to_contain_text("Matematik 7A")
    expect(frame.get_by_test_id("lti-role")).to_contain_text("Instructor")
    expect(frame.get_by_test_id("tool-role")).to_have_text(SUBJECT_TEACHER)
    expect(frame.get_by_role("heading", level=1)).to_contain_text("Tove Lärare")


def test_pupil_without_shared_name_is_shown_by_platform_id(page, tool_server):
    frame = launch_from_demo(page, tool_server.base_url, PUPIL, share_names=False)

    expect(frame.get_by_test_id("who")).to_have_text("s-21")
    expect(frame.locator("body")).not_to_contain_text("Elsa")


def test_it_admin_lands_on_registrations_without_pupil_names(page, tool_server):
    frame = launch_from_demo(page, tool_server.base_url, IT_ADMIN)

    tool_frame_url(page, r"/app/[0-9a-f-]+/registrations/$")
    expect(frame.get_by_test_id("lti-role")).to_contain_text(re.compile("administrat", re.IGNORECASE))
    expect(frame.locator("table").first).to_contain_text("/demo")
    html = page.frame(name="tool-frame").content()
    for name in PUPIL_NAMES:
        assert name not in html, f"the IT admin's page shows the pupil {name}"


def test_teacher_places_the_course_panel_through_the_content_picker(page, tool_server):
    frame = launch_from_demo(page, tool_server.base_url, TEACHER, deep=True, english_tool=True)

    frame.get_by_role("button", name="Add the course panel").click()

    # The tool posts its signed LtiDeepLinkingResponse back; the platform places the item.
    expect(frame.get_by_test_id("placed")).to_have_text("Elevstöd – course panel")
    page.reload()
    expect(page.locator("#course-heading ~ p .badge")).to_contain_text(["Elevstöd – course panel"])


def test_keyboard_only_launch(page, tool_server):
    page.goto(tool_server.base_url + "/demo/")

    def tab_to(selector: str, limit: int = 20) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
                return
        pytest.fail(f"Tab never reached {selector}")

    tab_to("#choice")
    page.keyboard.press("ArrowDown")  # the next person in Matematik 7A: Sara Speciallärare
    expect(page.locator("#choice")).to_have_value("solbacka:101:s-12")
    tab_to("button[type=submit]")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused Launch button shows no focus ring"
    page.keyboard.press("Enter")

    expect(page.frame_locator("#tool-frame").get_by_test_id("who")).to_have_text("Sara Speciallärare")


@pytest.mark.parametrize(("choice", "deep", "lands_on"), [
    (TEACHER, False, r"/app/[0-9a-f-]+/$"),
    (IT_ADMIN, False, r"/app/[0-9a-f-]+/registrations/$"),
    (TEACHER, True, r"/lti/deep-link/[0-9a-f-]+/$"),
], ids=["landing", "it-admin", "deep-link-picker"])
def test_no_serious_accessibility_violations(context, page, tool_server, choice, deep, lands_on):
    launch_from_demo(page, tool_server.base_url, choice, deep=deep)
    url = tool_frame_url(page, lands_on)
    page.frame_locator("#tool-frame").locator("h1").wait_for()
    found = {"demo page": serious_violations(page)}

    # axe scans the top document only: open the iframe's document on its own, same session cookie.
    tool_page = context.new_page()
    tool_page.goto(url)
    expect(tool_page.locator("h1")).to_be_visible()
    found["tool page"] = serious_violations(tool_page)

    assert found == {"demo page": [], "tool page": []}


def test_phone_width_has_no_horizontal_scroll(browser, tool_server):
    """At 375 px (Swedish, the longest words) neither the demo page nor a landing page scrolls sideways."""
    phone = browser.new_context(locale="sv-SE", viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        overflow = {}
        for who, choice, lands_on in (("teacher", TEACHER, r"/app/[0-9a-f-]+/$"),
                                      ("IT admin", IT_ADMIN, r"/app/[0-9a-f-]+/registrations/$")):
            page = phone.new_page()
            response = page.goto(tool_server.base_url + f"/demo/?choice={choice}")
            assert response is not None and response.ok
            url = tool_frame_url(page, lands_on)
            overflow[f"demo page, {who}"] = page.evaluate(SCROLL_OVERFLOW)
            landing = phone.new_page()
            landing.goto(url)
            expect(landing.locator("h1")).to_be_visible()
            overflow[f"landing page, {who}"] = landing.evaluate(SCROLL_OVERFLOW)

        assert overflow == dict.fromkeys(overflow, 0)
    finally:
        phone.close()


# How many CSS pixels the document is wider than the viewport (0: no horizontal scroll).
SCROLL_OVERFLOW = "Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth)"
