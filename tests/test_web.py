"""The web questionnaire at ``/`` in a real browser: headless Chromium driven by Selenium.

Three people: one with sudden breathlessness (the emergency screen within the first
screens, using the keyboard only), one with only night cramps (self-care advice), and
one who goes back and changes answers. Screenshots at phone and desktop sizes go to
``$TRIAGE_SCREENSHOTS`` (default: the test's temporary directory).

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import serving

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

server = serving.server  # the fixture: a real triage serve for this module

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
PHONE, DESKTOP = (390, 844), (1280, 900)
# The first choices of weakness and numbness are "none" and "neither".
NIGHT_CRAMPS = {"weeks_pregnant": 30, "leg_cramps": True, "night_cramps": True, "weakness": 0, "numbness": 0}


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are missing: .ci/run installs them (apt-get install chromium chromium-driver)")
        pytest.skip("needs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={PHONE[0]},{PHONE[1]}", "--lang=en-GB"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("TRIAGE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Page:
    """The questionnaire as a person sees it."""

    def __init__(self, driver, url):
        self.driver = driver
        driver.set_window_size(*PHONE)
        driver.get(url + "/")
        self.wait_for_screen()

    def wait(self, condition, timeout=10):
        # The page re-renders a screen in place: an element read mid-render is stale, so try again.
        # Poll every 20 ms, not Selenium's default 500 ms: most screens are there within a few
        # polls, and the default made every Next cost half a second.
        return WebDriverWait(self.driver, timeout, poll_frequency=0.02,
                             ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: condition())

    def visible(self, element_id) -> bool:
        return self.driver.find_element(By.ID, element_id).is_displayed()

    def wait_for_screen(self):
        self.wait(lambda: self.visible("screen") or self.visible("result"))

    def on_result(self) -> bool:
        return self.visible("result")

    def question_ids(self) -> list[str]:
        return [qid for qid, _ in self.items()]

    def items(self) -> list[tuple[str, str]]:
        """Each question on the screen and how it is answered (number, yesno or choice), read in one
        script rather than a WebDriver round trip per element (each costs 10-20 ms)."""
        return [tuple(pair) for pair in self.driver.execute_script("""
            return [...document.querySelectorAll('#questions .item')].map((e) => {
              const id = e.getAttribute('data-question');
              const kind = document.getElementById('n-' + id) ? 'number'
                : document.getElementById('q-' + id + '-yes') ? 'yesno' : 'choice';
              return [id, kind];
            });""")]

    def answer(self, values: dict, default=False):
        """Answer every question on the screen from ``values``; else no, 0 (25 for weeks) or "don't know".

        Typed and clicked as a person would: the script only reads which questions are shown."""
        given = {}
        for qid, kind in self.items():
            value = values.get(qid, default)
            if kind == "number":
                number = self.driver.find_element(By.ID, f"n-{qid}")
                value = values.get(qid, 25 if qid == "weeks_pregnant" else 0)
                number.clear()
                number.send_keys(str(value))
            elif kind == "yesno":
                self.driver.find_element(By.ID, f"q-{qid}-{'yes' if value else 'no'}").click()
            else:  # a choice: by its position in ``values``, else "don't know"
                choice = values.get(qid)
                self.driver.find_element(By.ID, f"q-{qid}-{'unknown' if choice is None else choice}").click()
            given[qid] = value
        return given

    def next(self):
        before = self.driver.execute_script("return JSON.stringify(window.history.length) + document.body.innerText.length")
        self.driver.find_element(By.ID, "next").click()
        self.wait(lambda: self.driver.execute_script(
            "return JSON.stringify(window.history.length) + document.body.innerText.length") != before)
        self.wait_for_screen()

    def level(self) -> str:
        return self.driver.find_element(By.ID, "result-level").text

    def shoot(self, folder: Path, name: str):
        paths = []
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            self.driver.set_window_size(*size)
            self.driver.execute_script("window.scrollTo(0, 0)")  # the page as it opens: the top
            path = folder / f"{name}-{label}.png"
            self.driver.save_screenshot(str(path))
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            paths.append(path)
        self.driver.set_window_size(*PHONE)
        return paths

    def console_errors(self) -> list[str]:
        return [entry["message"] for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]


def complete(page: Page, case: dict, limit=20):
    """Answer screens from ``case`` (anything else no, 0 or don't know) until the result; the screens seen."""
    screens = []
    for _ in range(limit):
        if page.on_result():
            return screens
        screens.append(page.question_ids())
        page.answer(case)
        page.next()
    raise AssertionError("no result after 20 screens")


def test_sudden_breathlessness_gets_the_emergency_screen_at_once_using_the_keyboard(browser, server, shots):
    page = Page(browser, server.url)
    # Keys go to whatever has the focus, as from a keyboard (one WebDriver round trip a key);
    # what has the focus is read in a script (one round trip, not two).
    press = lambda *keys: ActionChains(browser).send_keys(*keys).perform()  # noqa: E731
    focused = lambda name: browser.execute_script(f"return document.activeElement.{name}")  # noqa: E731
    assert focused("id") == "screen-title"  # focus starts on the question
    for _ in range(10):  # Tab to "I have none of these"
        press(Keys.TAB)
        if focused("id") == "none-of-these":
            break
    press(Keys.ENTER)  # every item no; focus moves to Next
    assert focused("id") == "next"
    for _ in range(60):  # back to the breathlessness answer
        ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        if focused("name") == "q-breathless_or_chest_pain":
            break
    press(Keys.ARROW_LEFT)  # from "No" to "Yes" in the radio group
    assert browser.find_element(By.ID, "q-breathless_or_chest_pain-yes").is_selected()
    for _ in range(60):
        press(Keys.TAB)
        if focused("id") == "next":
            break
    press(Keys.ENTER)
    page.wait(page.on_result)
    assert page.level() == "Emergency (emergency)"
    action = browser.find_element(By.ID, "result-action")
    assert action.text.startswith("Call the emergency number now")
    body = browser.find_element(By.ID, "result-body").text
    assert body.index("Warning signs found") < body.index("Likely causes")
    assert browser.execute_script(  # the action comes before everything else in the result
        "return document.getElementById('result-action').getBoundingClientRect().top"
        " < document.getElementById('result-body').getBoundingClientRect().top")
    assert browser.find_element(By.ID, "go-on").is_displayed()
    stopped = re.search(r"Up to (\d+) more question(s?) can complete the picture",
                        browser.find_element(By.ID, "stopped-text").text)
    assert stopped and (stopped[2] == "") == (stopped[1] == "1"), stopped  # "1 more question", "2 more questions"
    page.shoot(shots, "breathless-emergency")
    assert page.console_errors() == []


def test_only_night_cramps_gets_self_care_advice(browser, server, shots, engine):
    page = Page(browser, server.url)
    page.shoot(shots, "first-screen")
    screens = complete(page, NIGHT_CRAMPS)
    assert page.level() == "Self-care (self_care)"
    body = browser.find_element(By.ID, "result-body").text
    assert "What you can do" in body and "Get help if" in body
    assert "This is not a diagnosis" in body
    assert "Likely causes" in body and "Ordinary leg cramps" in body and "because:" in body
    asked = [qid for screen in screens for qid in screen]
    assert {"leg_cramps", "night_cramps"} <= set(asked)
    page.shoot(shots, "night-cramps-self-care")
    assert page.console_errors() == []


def test_going_back_shows_the_answers_again_and_a_changed_answer_counts(browser, server, shots):
    page = Page(browser, server.url)
    page.answer({"breathless_or_chest_pain": True})
    page.next()
    assert page.level() == "Emergency (emergency)"
    browser.find_element(By.ID, "change").click()  # "Change my last answer"
    page.wait_for_screen()
    assert not page.on_result()
    assert browser.find_element(By.ID, "q-breathless_or_chest_pain-yes").is_selected()  # shown again as given
    page.answer({})  # now no to everything
    page.next()
    assert not page.on_result() and "breathless_or_chest_pain" not in page.question_ids()
    first = page.question_ids()
    page.answer(NIGHT_CRAMPS)
    page.next()
    browser.find_element(By.ID, "back").click()  # back from a question
    page.wait(lambda: page.question_ids() == first)
    page.shoot(shots, "back-answers-shown")
    complete(page, NIGHT_CRAMPS)
    assert page.level() == "Self-care (self_care)"
    assert page.console_errors() == []


def test_a_yes_survives_none_of_these_and_an_unticked_warning_sign_is_dont_know(browser, server):
    # new-user trial: "I have none of these" turned a ticked Yes into No, and a lone Yes could
    # not be sent until all 19 warning signs were answered
    page = Page(browser, server.url)
    browser.find_element(By.ID, "q-breathless_or_chest_pain-yes").click()
    browser.find_element(By.ID, "none-of-these").click()
    assert browser.find_element(By.ID, "q-breathless_or_chest_pain-yes").is_selected()
    assert browser.find_element(By.ID, "q-fever-no").is_selected()
    assert "stay Yes" in browser.find_element(By.ID, "problems").text
    page.next()
    assert page.level() == "Emergency (emergency)"
    page = Page(browser, server.url)  # again, ticking only the one warning sign
    browser.find_element(By.ID, "q-breathless_or_chest_pain-yes").click()
    page.next()
    assert page.level() == "Emergency (emergency)"


def test_every_control_is_labelled_and_the_page_fits_a_phone(browser, server):
    Page(browser, server.url)  # the first screen, at phone size
    unlabelled = browser.execute_script("""
        return [...document.querySelectorAll('input, button, select, textarea')]
          .filter((e) => e.offsetParent !== null)
          .filter((e) => e.tagName === 'BUTTON' ? !e.textContent.trim() : e.labels.length === 0)
          .map((e) => e.id || e.name);""")
    assert unlabelled == []
    groups = browser.execute_script("""
        return [...document.querySelectorAll('[role=radiogroup]')].map(
          (g) => (document.getElementById(g.getAttribute('aria-labelledby')) || {}).textContent || '');""")
    assert groups and all(text.strip() for text in groups)
    fits = browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    font = browser.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
    smallest = browser.execute_script("""
        return Math.min(...[...document.querySelectorAll('button, .options label')]
          .filter((e) => e.offsetParent !== null).map((e) => e.getBoundingClientRect().height));""")
    assert fits and font >= 16 and smallest >= 44


@pytest.fixture(scope="module")
def unchecked_server(tmp_path_factory):
    """A `triage serve` without the safety pack: red flags are not checked."""
    running = serving.Server(tmp_path_factory.mktemp("unchecked") / "server.log",
                             global_args=("--pack", "core", "--pack", "documents")).start()
    yield running
    running.stop()


def test_without_the_safety_pack_every_screen_and_the_result_say_so(browser, unchecked_server, shots):
    # New-user trial 4: the question screens said nothing, and the result's warning sat below
    # the buttons. Breathlessness comes out self-care here: the page must say why it may be wrong.
    page = Page(browser, unchecked_server.url)
    warning = browser.find_element(By.ID, "unchecked")
    assert warning.is_displayed() and "safety pack was not selected" in warning.text
    complete(page, {"breathless_or_chest_pain": True, **NIGHT_CRAMPS})
    assert page.level() == "Self-care, red flags not checked (self_care)"
    shown = browser.find_element(By.ID, "result-warnings")
    assert shown.is_displayed() and "were NOT checked" in shown.text
    assert browser.execute_script(  # under the level and action, above every button and the body
        "const top = (id) => document.getElementById(id).getBoundingClientRect().top;"
        "return top('result-action') < top('result-warnings') && top('result-warnings') < top('change')")
    page.shoot(shots, "safety-pack-off")
    assert page.console_errors() == []
    import httpx  # and a monitor sees it in /healthz, not only in the packs listed

    assert "safety pack was not selected" in httpx.get(unchecked_server.url + "/healthz").json()["warnings"][0]
