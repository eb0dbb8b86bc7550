"""Live audit while typing: findings of oshie's data checks appear beside the form with their
span highlighted, and nothing is checked while an input method is composing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.studio.conftest import LiveStudio

ENGLISH = "This sentence was left in English by mistake."
ANSWER = f"日本の春には花見があります。{ENGLISH} 桜は四月に咲くのだ。花見は楽しいです。夏は暑いです。"


def _check_calls(page: Any) -> list[str]:
    calls: list[str] = []
    page.on("request", lambda req: calls.append(req.url) if req.url.endswith("/api/check") else None)
    return calls


def test_findings_appear_with_spans_highlighted(sign_in, live_studio: LiveStudio, tmp_path: Path) -> None:
    from sqlalchemy import select

    from oshie.studio.db import User
    from oshie.studio.workflow import create_question

    with live_studio.studio.db.transaction() as s:
        q = create_question(s, s.scalar(select(User).where(User.name == "mio")), "日本の春の行事を説明してください。")
    page = sign_in("ren")
    page.goto(f"/questions/{q.id}")
    page.locator("textarea[name=answer]").press_sequentially(ANSWER, delay=2)
    english = page.locator(".findings li[data-check=untranslated_english]")
    english.wait_for()
    assert ENGLISH in english.inner_text()
    mixed = page.locator(".findings li[data-check=mixed_speech_style]")
    mixed.wait_for()
    assert "です・ます と だ・である の混在" in mixed.inner_text()  # the Japanese name of the check
    preview = page.locator(".preview[data-for=answer]")
    # exactly the English run is highlighted, and the text around it is shown as typed
    marked = preview.locator("mark[data-check~=untranslated_english]").all_inner_texts()
    assert "".join(marked) == ENGLISH
    assert preview.locator("mark[data-check~=mixed_speech_style]").count() >= 1
    assert preview.inner_text() == ANSWER
    page.screenshot(path=str(tmp_path / "live-audit.png"))


def test_clean_japanese_has_no_findings(sign_in, live_studio: LiveStudio) -> None:
    page = sign_in("mio")
    page.goto("/questions/new")
    calls = _check_calls(page)
    page.locator("textarea[name=instruction]").fill("日本の秋の行事を一つ選び、その由来を説明してください。")
    page.locator(".audit-status", has_text="指摘はありません。").wait_for()
    assert calls and page.locator(".findings li").count() == 0


def test_nothing_fires_during_ime_composition(sign_in, live_studio: LiveStudio) -> None:
    page = sign_in("mio")
    page.goto("/questions/new")
    calls = _check_calls(page)
    box = page.locator("textarea[name=instruction]")
    box.focus()
    # a real composition through Chromium's IME entry point: compositionstart, then
    # compositionupdate + input events with isComposing, as a Japanese IME produces them
    cdp = page.context.new_cdp_session(page)
    for partial in ("は", "はる", "はるの", "This is English はるの"):
        cdp.send("Input.imeSetComposition", {"text": partial, "selectionStart": len(partial),
                                              "selectionEnd": len(partial)})
        page.wait_for_timeout(150)
    page.wait_for_timeout(1500)  # well past the debounce
    assert page.evaluate("document.querySelector('textarea[name=instruction]').value").endswith("はるの")
    assert calls == [] and page.locator(".findings li").count() == 0
    assert page.evaluate("localStorage.length") == 0  # no autosave while composing either
    # Ctrl+Enter during composition does not submit
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(300)
    assert page.url.endswith("/questions/new")
    # committing the composition (compositionend) runs the check
    cdp.send("Input.insertText", {"text": "This is English text left over 春のだ。花見は楽しいです。"})
    page.locator(".findings li").first.wait_for()
    assert len(calls) >= 1
    assert page.evaluate("localStorage.length") == 1
