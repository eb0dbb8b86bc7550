"""Headless Chromium for tests: `dump_dom(html_path)` and `screenshot(html_path, png_path)` for
reports, and `playwright_chromium()` (the same system binary driven by Playwright) for the studio.

Tests that need a browser call these; when no Chromium binary is installed they
`pytest.skip` (CI installs one with `make browser`). Each call uses a fresh throw-away
profile and no network, so runs are isolated and nothing is fetched.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
)


def chromium_binary() -> str | None:
    """Path of an installed Chromium/Chrome, or None."""
    return next((p for p in map(shutil.which, _NAMES) if p), None)


def _run(html_path: str | Path, extra: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no chromium binary installed (run `make browser`)")
    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="oshie-chromium-") as profile:
        cmd = [binary, *_FLAGS, f"--user-data-dir={profile}", *extra, url]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def dump_dom(html_path: str | Path, timeout: float = 90) -> str:
    """The DOM of the page after Chromium loaded it (scripts run, images decoded), as HTML."""
    return _run(html_path, ["--dump-dom", "--virtual-time-budget=3000"], timeout).stdout


def screenshot(html_path: str | Path, png_path: str | Path, width: int = 1200, height: int = 2400,
               timeout: float = 90) -> Path:
    """Render the page to a PNG of `width` x `height` pixels and return its path."""
    out = Path(png_path).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(html_path, [f"--screenshot={out}", f"--window-size={width},{height}"], timeout)
    if not out.is_file() or out.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot to {out}")
    return out


@contextmanager
def playwright_chromium() -> Iterator[Any]:
    """A headless Playwright `Browser` on the system Chromium (`executable_path`; Playwright
    never downloads one). Skips when Chromium or the playwright package is missing. While it is
    open, an event loop runs in this thread: `asyncio.run()` fails until the context exits."""
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no chromium binary installed (run `make browser`)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (dev extra)")
    args = [f for f in _FLAGS if f not in ("--headless", "--hide-scrollbars")]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=binary, headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()
