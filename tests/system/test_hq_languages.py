"""The head office's pages in English and Simplified Chinese, in a real Chromium whose
language is set on its context (as a user's browser says it): every HQ page (the chain,
the brand, the page for roles without one) shows no catalogue key and looks none up in
vain, names its language on <html>, has a Chinese heading in Chinese, and writes the
role, dates and the API's reason codes in the page's language. Photographed into
artifacts/ for people to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.gateway.test_languages import CJK, catalogue, untranslated
from tests.support.auth_support import make_user
from tests.support.browser import ARTIFACTS, DESKTOP
from tests.support.hq_server import HqServer, served_hq

pytestmark = pytest.mark.slow

LANGUAGES = ("en", "zh-CN")
MERCHANDISER = "merchandiser:chain:Fresh Corner"
ROLE_SHOWN = {"en": "merchandiser, chain Fresh Corner", "zh-CN": "陈列督导，连锁 Fresh Corner"}
UPLINK_QUIET = {"en": "uplink quiet", "zh-CN": "门店上传无消息"}


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HqServer]:
    with served_hq(tmp_path_factory) as server:
        yield server


def signed_in(browser: Any, hq: HqServer, role: str, path: str, language: str) -> Any:
    """A browser speaking `language` that opens `path`, signs in on the way as a new user
    of `role` and waits until the page is translated and drawn."""
    name, password, _ = make_user(hq.db, role)
    page = browser.new_context(viewport=DESKTOP, locale=language).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{hq.url}{path}")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.errors = errors
    return page


def check_language(page: Any, language: str, where: str) -> None:
    assert page.evaluate("document.documentElement.lang") == language, where
    assert untranslated(page, set(catalogue("en"))) == [], f"{where} in {language}"
    heading = page.locator("h1").first.inner_text()
    assert bool(CJK.search(heading)) == (language == "zh-CN"), f"{where}: {heading}"
    assert not page.errors, page.errors


def look_at(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name} looks blank"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_hq_pages_speak_the_browsers_language(
    browser: Any, hq: HqServer, language: str
) -> None:
    page = signed_in(browser, hq, MERCHANDISER, "/chain", language)
    page.wait_for_selector("#chart-compliance canvas")
    check_language(page, language, "/chain")
    assert page.locator("#user-role").inner_text() == ROLE_SHOWN[language]
    assert page.locator("#language").input_value() == language
    assert UPLINK_QUIET[language] in page.locator("#devices-table").inner_text()
    chinese_dates = "年" in page.locator("#kpis").inner_text()  # the range the KPIs cover
    assert chinese_dates == (language == "zh-CN")
    look_at(page, f"i18n-{language}-hq-chain.png")

    page.click("#to-brand")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#stores-table")
    page.wait_for_load_state("networkidle")
    check_language(page, language, "/brand")
    title = page.locator("#title").inner_text()
    assert title.startswith(page.locator("#brand").input_value())  # "<brand> across stores"
    look_at(page, f"i18n-{language}-hq-brand.png")
    page.context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_role_without_hq_pages_is_told_so_in_its_language(
    browser: Any, hq: HqServer, language: str
) -> None:
    page = signed_in(browser, hq, "staff:store-a1", "/chain", language)
    check_language(page, language, "the page for roles without HQ pages")
    assert page.locator("#language").input_value() == language
    look_at(page, f"i18n-{language}-hq-denied.png")
    page.context.close()
