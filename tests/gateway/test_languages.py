"""The web UI in English and Simplified Chinese: the catalogues agree key for key, every
key a page or script asks for exists, and in a real Chromium every page renders in both
languages with no key left untranslated (photographed into artifacts/ for people to look
at). The language follows the browser, can be switched, and is remembered."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import ARTIFACTS, DESKTOP
from tests.support.dashboard_store import DashboardStore, module_dashboard_store
from tests.support.paths import REPO

STATIC = REPO / "gateway" / "web" / "static"
HQ_STATIC = REPO / "gateway" / "hq" / "web" / "static"
CATALOGUES = STATIC / "i18n"
LANGUAGES = ("en", "zh-CN")
PLACEHOLDER = re.compile(r"\{(\w+)(?::\w+)?\}")
KEY_IN_SCRIPT = re.compile(r"""\bt\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""")
KEY_IN_HTML = re.compile(
    r"""data-i18n="([^"]+)"|data-i18n-attr="([^"]+)"|label: "([a-z_]+\.[a-z_.]+)\""""
)
CJK = re.compile(r"[\u4e00-\u9fff]")

STORE_PAGES = ("store", "merchandiser", "brand", "devices", "rollouts", "calibrate", "alerts")


def catalogue(language: str) -> dict[str, str | dict[str, str]]:
    words: dict[str, str | dict[str, str]] = {}
    for path in sorted((CATALOGUES / language).glob("*.json")):
        words.update(json.loads(path.read_text(encoding="utf-8")))
    return words


def placeholders(text: str | dict[str, str]) -> set[str]:
    texts = text.values() if isinstance(text, dict) else [text]
    return {name for t in texts for name in PLACEHOLDER.findall(t)}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    english, chinese = catalogue("en"), catalogue("zh-CN")
    assert sorted(set(english) - set(chinese)) == [], "keys without a Chinese sentence"
    assert sorted(set(chinese) - set(english)) == [], "Chinese keys English lacks"
    for key, text in english.items():
        assert placeholders(chinese[key]) == placeholders(text), key
    for language in LANGUAGES:
        for path in (CATALOGUES / language).glob("*.json"):
            if path.stem == "common":  # words several pages share: nav, status, place...
                continue
            keys = json.loads(path.read_text(encoding="utf-8"))
            strays = [k for k in keys if not k.startswith(f"{path.stem}.")]
            assert strays == [], f"{language}/{path.name}: its keys start '{path.stem}.'"


def keys_asked_for() -> dict[str, str]:
    """Every literal key in the pages and scripts, with the file that asks for it."""
    asked: dict[str, str] = {}
    for folder in (STATIC, HQ_STATIC):
        for path in [*folder.glob("*.js"), *folder.glob("*.html")]:
            text = path.read_text(encoding="utf-8")
            for key in KEY_IN_SCRIPT.findall(text):
                asked[key] = path.name
            for plain, attrs, label in KEY_IN_HTML.findall(text):
                for key in [plain, label, *(p.split(":")[1] for p in attrs.split(";") if ":" in p)]:
                    if key.strip():
                        asked[key.strip()] = path.name
    return asked


def test_every_key_a_page_asks_for_exists() -> None:
    english = catalogue("en")
    asked = keys_asked_for()
    assert len(asked) > 50
    missing = {key: where for key, where in asked.items() if key not in english}
    assert missing == {}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardStore]:
    with module_dashboard_store(tmp_path_factory) as live:
        yield live


def signed_in(browser: Any, store: DashboardStore, locale: str, user: str = "admin") -> Any:
    """A browser whose language is `locale`, signed in as `user`."""
    context = browser.new_context(viewport=DESKTOP, locale=locale)
    page = context.new_page()
    page.goto(f"{store.base_url}/login")
    page.wait_for_function("window.shelfsenseI18n !== undefined")
    login = store.users[user]
    page.fill("#name", login.name)
    page.fill("#password", login.password)
    page.click("#submit")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    return page


def untranslated(page: Any, keys: set[str]) -> list[str]:
    """Keys the page's scripts looked up and did not find, and keys showing as text."""
    missing = page.evaluate("[...window.shelfsenseI18n.missingKeys]")
    shown = page.evaluate("document.body.innerText")
    words = set(re.findall(r"[a-z0-9_]+(?:\.[a-z0-9_]+)+", shown))
    return sorted(set(missing) | (words & keys))


def look_at(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name} looks blank"


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_renders_in_the_browsers_language(
    browser: Any, store: DashboardStore, language: str
) -> None:
    keys = set(catalogue("en"))
    page = signed_in(browser, store, language)
    for name in STORE_PAGES:
        page.goto(f"{store.base_url}/{name}")
        page.wait_for_selector("body[data-ready='1']", timeout=20_000)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.lang") == language
        assert untranslated(page, keys) == [], f"/{name} in {language}"
        heading = page.locator("h1").first.inner_text()
        assert bool(CJK.search(heading)) == (language == "zh-CN"), f"/{name}: {heading}"
        look_at(page, f"i18n-{language}-{name}.png")
    page.context.close()


@pytest.mark.slow
def test_the_sign_in_page_switches_language_and_it_is_remembered(
    browser: Any, store: DashboardStore
) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    page.goto(f"{store.base_url}/login")
    page.wait_for_function("window.shelfsenseI18n !== undefined")
    assert page.locator("#submit").inner_text() == "Sign in"

    with page.expect_navigation():
        page.select_option("#language", "zh-CN")
    page.wait_for_function("window.shelfsenseI18n !== undefined")
    assert page.locator("#submit").inner_text() == "登录"
    look_at(page, "i18n-zh-CN-login.png")

    page.fill("#name", store.users["staff"].name)
    page.fill("#password", "not the password")
    page.click("#submit")
    page.wait_for_selector("#message:not([hidden])")
    assert CJK.search(page.locator("#message").inner_text())

    page.fill("#password", store.users["staff"].password)
    page.click("#submit")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    assert page.locator("#logout").inner_text() == "退出登录"
    assert page.locator("#language").input_value() == "zh-CN"

    with page.expect_navigation():
        page.select_option("#language", "en")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    assert page.locator("#logout").inner_text() == "Log out"
    context.close()


def test_figures_follow_the_locale(browser: Any, store: DashboardStore, tmp_path: Path) -> None:
    """Money, percentages and dates come out as a Chinese reader writes them."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{store.base_url}/login")
    page.wait_for_function("window.shelfsenseI18n !== undefined")
    figures = page.evaluate(
        """async () => {
        const i18n = await import('/static/i18n.js');
        return {
          money: i18n.money(1234.5, 'CNY'),
          pct: i18n.pct(0.873, 1),
          day: i18n.day('2026-12-06'),
          minutes: i18n.minutes(150),
          perDay: i18n.perDay(3.25),
        };
      }"""
    )
    assert figures["money"] == "¥1,235"
    assert figures["pct"] == "87.3%"
    assert figures["day"] == "2026年12月6日"
    assert "2.5" in figures["minutes"] and "小时" in figures["minutes"]
    assert figures["perDay"] == "每天 3.3 件"
    context.close()
