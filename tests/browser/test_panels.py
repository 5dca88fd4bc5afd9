"""The panels in a real browser: each person launched from the demo platform into its iframe (the real
OIDC flow), in their own browser context, doing everything with clicks, typing and the keyboard.

The journey mirrors tests/frontend/test_panels.py's (done there with Django's test client) on the seeded
demo school (lti_plugin/lti/demo/seed.py), in Svenska 7A at Solbackaskolan (`se`): Stella Låtsasdotter
has a concern and the absence ladder there but no plan, and her guardian Maria Låtsasdotter is a demo
person. axe-core scans the tool's iframe document itself (the Frame, not the demo page around it).

Screenshots of the journey's panels go to var/screenshots/journey/, or to the folder named by
ELEVSTOD_DOC_SCREENSHOTS (the ones in docs/screenshots/ were made with it set to that folder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Frame, FrameLocator, Locator, Page, expect

from tests.browser.test_demo_journeys import SCROLL_OVERFLOW, launch_from_demo
from tests.servers import REPO

pytestmark = pytest.mark.browser

# Svenska 7A at Solbackaskolan (demo data.py): everyone in the journey is on its roster.
TEACHER = "solbacka:102:s-11"  # Tove Lärare: the class teacher (mentor) of 7A, teaches the course
SPECIAL_TEACHER = "solbacka:102:s-12"  # Sara Speciallärare
PRINCIPAL = "solbacka:102:s-13"  # Petra Rektor, principal of Solbackaskolan
PUPIL = "solbacka:102:s-68"  # Stella Låtsasdotter: no plan in the seed
GUARDIAN = "solbacka:102:s-32"  # Maria Låtsasdotter, Stella's guardian
OTHER_PUPIL = "solbacka:102:s-21"  # Elsa Exempelsson: a plan in force in the seed
STELLA, ELSA = "Stella Låtsasdotter", "Elsa Exempelsson"
EVALUATED = "Liam Skissberg"  # seed: plan evaluated, the decision waits for the principal
CLOSED = "Oscar Provsson"  # seed: a closed plan in the archive

PUPILS_IN_COURSE = re.compile(r"^(Pupils in this course|Elever i den här kursen)$")
SAVED = re.compile(r"Saved|Sparat")
# Decisions and the steps leading to them: the principal's (DESIGN.md's matrix, pack se).
DECISION_FORMS = re.compile(r"^form-(decide_|continue_in_new_plan|record_hearing)")

AXE_RESULTS: dict[str, list[dict]] = {}  # view -> every violation (any impact), printed by the test


@dataclass
class Person:
    """One person's browser context, on the demo page with the tool in its iframe."""

    page: Page

    @property
    def frame(self) -> FrameLocator:
        return self.page.frame_locator("#tool-frame")

    @property
    def tool(self) -> Frame:
        frame = self.page.frame(name="tool-frame")
        assert frame is not None, "the demo page shows no #tool-frame"
        return frame

    def click(self, name: str | re.Pattern[str], *, within: str = "main") -> None:
        """Follow a link in the tool, as a person would, and wait for the page it opens."""
        links = self.frame.locator(within)
        link = links.get_by_role("link", name=name, exact=True) if isinstance(name, str) \
            else links.get_by_role("link", name=name)
        href = link.first.get_attribute("href") or ""
        link.first.click()
        self.tool.wait_for_url(re.compile(re.escape(href.split("?")[0]) + r"(\?.*)?$"))

    def start(self) -> None:
        self.click(re.compile(r"^Start$"), within="header")

    def case_of(self, pupil: str) -> None:
        """From anywhere in the tool to the pupil's case panel: Start, the caseload, the pupil."""
        self.start()
        self.click(re.compile(r"^(Cases you reach|Ärenden du har åtkomst till)$"))
        self.click(pupil)
        expect(self.frame.locator("#case-panel h1")).to_have_text(pupil)


def open_form(details: Locator) -> Locator:
    """Open an action's <details> by its summary; the form inside it."""
    details.locator("summary").click()
    expect(details).to_have_attribute("open", "")
    return details.locator("form")


def submit(form: Locator) -> None:
    form.get_by_role("button").click()


@pytest.fixture
def people(browser, tool_server) -> Iterator[Callable[..., Person]]:
    """Launch a person from the demo page, in a context of their own (closed after the test, so a
    failing test's pages are still open for its screenshots)."""
    contexts = []

    def launch(choice: str, *, english: bool = True, width: int = 1280) -> Person:
        # The demo page in English (the browser's language); the tool in the platform's language.
        ctx = browser.new_context(locale="en-GB", viewport={"width": width, "height": 900},
                                  is_mobile=width < 500)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        page = ctx.new_page()
        person = Person(page)
        launch_from_demo(page, tool_server.base_url, choice, english_tool=english)
        person.tool.wait_for_url(re.compile(r"/app/[0-9a-f-]+/$"))
        expect(person.frame.locator("h1")).to_be_visible()
        return person

    yield launch
    for ctx in contexts:
        ctx.close()


SHOTS = Path(os.environ.get("ELEVSTOD_DOC_SCREENSHOTS") or REPO / "var" / "screenshots" / "journey")


def shot(person: Person, name: str, at: str = "body") -> None:
    """The tool's iframe as the person sees it, scrolled to the element `at`."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    person.tool.evaluate("(at) => document.querySelector(at).scrollIntoView({block: 'start'})", at)
    person.page.locator("#tool-frame").screenshot(path=str(SHOTS / f"{name}.png"))


def test_the_whole_support_journey(people) -> None:
    """Concern → drafted ÅP → the pupil's and the guardian's views → hearing → decision → two
    follow-ups → evaluation → continue in a new plan (a copy of the old measures) → hearing and its
    decision → closing → both plans in the archive, read-only."""
    today = date.today()
    concern = "Stella kommer sent och tappar tråden i läsuppgifter."

    # The class teacher raises the concern from the course panel (the platform's Swedish, the default).
    tove = people(TEACHER, english=False)
    tove.click(PUPILS_IN_COURSE)
    row = tove.frame.get_by_test_id("pupil-row").filter(has_text=STELLA)
    form = open_form(row.locator("details[id$='-raise_concern']"))
    form.locator("textarea").fill(concern)
    submit(form)
    expect(row.locator(".saved")).to_have_text(SAVED)
    row_id = f"#{row.get_attribute('id')}"
    shot(tove, "course-panel", at=row_id)
    tove.click(STELLA, within=row_id)
    expect(tove.frame.get_by_test_id("timeline")).to_contain_text(concern)

    # The special teacher drafts the action plan: needs and measures, one a line.
    sara = people(SPECIAL_TEACHER)
    sara.case_of(STELLA)
    form = open_form(sara.frame.locator("#form-draft_plan"))
    form.get_by_label("Needs (one a line)").fill("Läsförståelse\nArbetsro")
    form.get_by_label("Measures (one a line)").fill("Inläst läromedel\nLugn plats vid prov")
    form.get_by_label("Measures start").fill(today.isoformat())
    form.get_by_label("Measures end").fill((today + timedelta(days=90)).isoformat())
    submit(form)
    expect(sara.frame.get_by_test_id("measures").locator("tbody tr")).to_have_count(2)
    expect(sara.frame.get_by_test_id("measures")).to_contain_text("Lugn plats vid prov")
    expect(sara.frame.get_by_test_id("needs").locator("li")).to_have_text(["Läsförståelse", "Arbetsro"])
    shot(sara, "case-panel-draft", at="#current-plan")

    # The pupil adds her view from her start page's one link.
    stella = people(PUPIL)
    stella.click("Your support")
    expect(stella.frame.get_by_test_id("needs")).to_contain_text("Läsförståelse")
    form = open_form(stella.frame.locator("#form-add_own_view"))
    form.get_by_label("Text").fill("Jag vill ha lugn runt mig.")
    submit(form)
    expect(stella.frame.get_by_test_id("views")).to_contain_text("Jag vill ha lugn runt mig.")
    shot(stella, "pupil-view", at="#current-plan")

    # The guardian adds hers with the keyboard only: Enter opens the form, Tab, type, Tab, Enter.
    maria = people(GUARDIAN)
    maria.click(f"Support for {STELLA}")
    summary = maria.frame.locator("#form-add_own_view summary")
    summary.focus()
    maria.page.keyboard.press("Enter")
    expect(maria.frame.locator("#form-add_own_view")).to_have_attribute("open", "")
    expect(maria.frame.locator("#form-add_own_view textarea")).to_be_visible()  # the form loads as it opens
    maria.page.keyboard.press("Tab")
    assert maria.tool.evaluate("document.activeElement.name") == "text"
    maria.page.keyboard.type("Bra plan, vi hjälper till hemma.")
    maria.page.keyboard.press("Tab")
    maria.page.keyboard.press("Enter")
    expect(maria.frame.get_by_test_id("views")).to_contain_text("Bra plan, vi hjälper till hemma.")

    # The principal records the hearing (pupil and guardians heard) and decides.
    petra = people(PRINCIPAL)
    petra.case_of(STELLA)
    hear(petra, "Stella och vårdnadshavaren hördes om förslaget.")
    decide(petra, "Utredningen visar behov av särskilt stöd.")
    # Each decision with its pack's appeal text.
    expect(petra.frame.get_by_test_id("decision").first.locator(".appeal")).not_to_be_empty()
    shot(petra, "case-panel-decided", at="#decisions")

    # Two follow-ups, by the class teacher and the special teacher, then the evaluation.
    for person, text in ((tove, "Stella använder inläst läromedel varje lektion."),
                         (sara, "Lugn plats vid prov fungerar.")):
        person.case_of(STELLA)
        form = open_form(person.frame.locator("#form-add_follow_up"))
        form.locator("textarea").fill(text)
        submit(form)
        expect(person.frame.get_by_test_id("follow-ups")).to_contain_text(text)
    expect(sara.frame.get_by_test_id("follow-ups").locator("li")).to_have_count(2)
    tove.case_of(STELLA)
    form = open_form(tove.frame.locator("#form-record_evaluation"))
    form.locator("textarea").fill("Målen delvis nådda; läsförståelsen behöver fortsatt stöd.")
    submit(form)
    expect(tove.frame.get_by_test_id("evaluation")).to_contain_text("Målen delvis nådda")

    # The principal continues in a new plan: a copy of the old one, drafted, ready to edit.
    petra.case_of(STELLA)
    form = open_form(petra.frame.locator("#form-continue_in_new_plan"))
    submit(form)
    expect(petra.frame.locator("#form-decide_new_plan")).to_have_count(1)
    expect(petra.frame.locator("#form-continue_in_new_plan")).to_have_count(0)

    sara.case_of(STELLA)
    form = open_form(sara.frame.locator("#form-update_draft"))
    expect(form.get_by_label("Measures (one a line)")).to_have_value("Inläst läromedel\nLugn plats vid prov")
    form.get_by_label("Measures (one a line)").fill("Inläst läromedel\nLäsgrupp")
    submit(form)
    expect(sara.frame.locator("#case-panel [role=status]")).to_have_text(SAVED)
    # The copy is shown beside the plan in force until it is decided.
    expect(sara.frame.get_by_test_id("draft-measures")).to_contain_text("Läsgrupp")

    # The principal hears and decides the new plan, and later closes it with a reason.
    petra.case_of(STELLA)
    hear(petra, "Stella och vårdnadshavaren vill fortsätta med läsgruppen.")
    decide(petra, "Fortsatt behov av särskilt stöd i läsförståelse.")
    expect(petra.frame.get_by_test_id("measures")).to_contain_text("Läsgrupp")
    form = open_form(petra.frame.locator("#form-decide_close_plan"))
    form.get_by_label("Reason").select_option(label="The need for support no longer remains")
    form.get_by_label("Text").fill("Behovet finns inte längre.")
    submit(form)
    expect(petra.frame.get_by_test_id("decision").first).to_contain_text("Decision to close the action plan")
    expect(petra.frame.get_by_test_id("plan")).to_have_count(0)  # no plan in force or drafted
    expect(petra.frame.locator("#form-decide_close_plan")).to_have_count(0)

    # The guardian finds both plans in the archive, read-only.
    maria.start()
    maria.click(f"Support for {STELLA}")
    maria.click("Earlier support (archive)")
    plans = maria.frame.get_by_test_id("archived-plan")
    expect(plans).to_have_count(2)
    expect(maria.frame.locator("main")).to_contain_text("Lugn plats vid prov")
    expect(maria.frame.locator("main")).to_contain_text("Läsgrupp")
    expect(maria.frame.locator("main form, main details, main button, main textarea")).to_have_count(0)
    shot(maria, "archive")


def hear(principal: Person, summary: str) -> None:
    form = open_form(principal.frame.locator("#form-record_hearing"))
    form.get_by_label("The pupil was heard").check()
    form.get_by_label("The guardians were heard").check()
    form.get_by_label("Text").fill(summary)
    submit(form)
    expect(principal.frame.get_by_test_id("timeline")).to_contain_text(summary)


def decide(principal: Person, grounds: str) -> None:
    form = open_form(principal.frame.locator("#form-decide_new_plan"))
    form.get_by_label("Text").fill(grounds)
    submit(form)
    expect(principal.frame.get_by_test_id("decision").first).to_contain_text(grounds)


def own_links(person: Person) -> Locator:
    return person.frame.locator("main nav a")


def test_a_pupil_and_a_guardian_reach_only_their_own(people) -> None:
    elsa = people(OTHER_PUPIL)
    expect(own_links(elsa)).to_have_text(["Your support"])
    maria = people(GUARDIAN)
    expect(own_links(maria)).to_have_text([f"Support for {STELLA}"])

    # Each launch has its own id in the tool's URLs: the other's case id under one's own launch.
    elsa_case = re.search(r"/cases/\d+/$", own_links(elsa).get_attribute("href") or "")
    stella_case = re.search(r"/cases/\d+/$", own_links(maria).get_attribute("href") or "")
    assert elsa_case and stella_case
    for person, own, other, name in ((elsa, elsa_case[0], stella_case[0], STELLA),
                                     (maria, stella_case[0], elsa_case[0], ELSA)):
        launch = re.sub(r"/app/([0-9a-f-]+)/.*$", r"/app/\1", person.tool.url)
        # The other pupil's case and its archive, typed into the frame: a 404 that names no one.
        for url in (launch + other, launch + other + "archive/"):
            response = person.tool.goto(url)
            assert response is not None and response.status == 404, url
            expect(person.frame.locator("body")).not_to_contain_text(name)
        own_page = person.tool.goto(launch + own)
        assert own_page is not None and own_page.status == 200


def action_ids(person: Person) -> list[str]:
    person.frame.locator("#case-panel").wait_for()
    return person.frame.locator("#actions details").evaluate_all("(all) => all.map((d) => d.id)")


def test_forbidden_actions_are_not_shown(people) -> None:
    """A pupil's panel offers her own view (and a concern), no decision; a teacher's no decision on a
    plan waiting for one (the principal's panel, in the accessibility test, does offer them)."""
    elsa = people(OTHER_PUPIL)
    elsa.click("Your support")
    ids = action_ids(elsa)
    assert "form-add_own_view" in ids and set(ids) <= {"form-add_own_view", "form-raise_concern"}, ids
    expect(elsa.frame.get_by_test_id("timeline")).to_have_count(0)  # staff notes are not the pupil's summary

    tove = people(TEACHER)
    tove.click(PUPILS_IN_COURSE)
    tove.click(EVALUATED)
    ids = action_ids(tove)
    assert ids and not [i for i in ids if DECISION_FORMS.match(i)], ids
    tove.click(re.compile(r"^Caseload$"))
    tove.click(ELSA)
    ids = action_ids(tove)
    assert "form-add_follow_up" in ids and not [i for i in ids if DECISION_FORMS.match(i)], ids


def axe(person: Person, view: str, *, open_forms: bool = False) -> None:
    """axe-core on the tool's iframe document on its own; every violation kept for the module's report."""
    from axe_playwright_python.sync_playwright import Axe

    expect(person.frame.locator("h1").first).to_be_visible()
    if open_forms:
        person.tool.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    response = Axe().run(person.tool).response
    assert response["url"] == person.tool.url  # the iframe's own document was scanned
    violations = response["violations"]
    AXE_RESULTS[view] = [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": len(v["nodes"]),
                          "targets": [n["target"] for n in v["nodes"]][:3]} for v in violations]


def test_no_serious_accessibility_violation_on_any_view(people) -> None:
    tove = people(TEACHER, english=False)
    axe(tove, "start page (teacher, sv)")
    tove.click(PUPILS_IN_COURSE)
    axe(tove, "course panel (teacher, sv, forms open)", open_forms=True)

    petra = people(PRINCIPAL)
    axe(petra, "start page (principal)")
    petra.click("My tasks")
    axe(petra, "my tasks (principal)")
    petra.start()
    petra.click("Audit log")
    axe(petra, "audit log (principal)")
    petra.case_of(EVALUATED)
    ids = action_ids(petra)
    assert {"form-continue_in_new_plan", "form-decide_close_plan"} <= set(ids), ids  # the principal decides
    axe(petra, "case panel (principal, forms open)", open_forms=True)
    petra.click("Caseload")
    axe(petra, "caseload (principal)")
    petra.click(CLOSED)
    petra.click("Earlier support (archive)")
    axe(petra, "archive (principal)")
    petra.click("Print", within="[data-testid=archived-plan]")
    axe(petra, "plan print view (principal)")

    elsa = people(OTHER_PUPIL)
    elsa.click("Your support")
    axe(elsa, "case panel (pupil, forms open)", open_forms=True)
    elsa.click("Print", within="[data-testid=decision]")
    axe(elsa, "decision print view (pupil)")

    print("\naxe-core on the tool's iframe document, per view:")
    for view, violations in AXE_RESULTS.items():
        found = "; ".join(f"{v['id']} ({v['impact']}, {v['nodes']} nodes: {v['targets']})"
                          for v in violations)
        print(f"  {view}: {found or 'no violations'}")
    serious = {view: [v["id"] for v in found if v["impact"] in ("serious", "critical")]
               for view, found in AXE_RESULTS.items()}
    assert serious == dict.fromkeys(serious, [])


def test_phone_width_case_and_course_panels_do_not_scroll_sideways(people) -> None:
    """At 375 px, in Swedish (the longer words), with every form open."""
    tove = people(TEACHER, english=False, width=375)
    overflow = {}
    tove.click(PUPILS_IN_COURSE)
    tove.tool.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    overflow["course panel"] = tove.tool.evaluate(SCROLL_OVERFLOW)
    overflow["demo page around the course panel"] = tove.page.evaluate(SCROLL_OVERFLOW)
    tove.click(ELSA)
    tove.tool.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    overflow["case panel"] = tove.tool.evaluate(SCROLL_OVERFLOW)
    overflow["demo page around the case panel"] = tove.page.evaluate(SCROLL_OVERFLOW)
    assert overflow == dict.fromkeys(overflow, 0)

