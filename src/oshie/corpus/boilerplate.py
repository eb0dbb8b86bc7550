"""Boilerplate-line removal: footers, copyright lines, navigation menus, and lines a site
repeats on many of its pages.

Lines are dropped, never rewritten. Site-repeated lines are counted within one batch of
documents (same host from the `url` in the metadata): a line found on `min_pages` pages of one
host in the batch is boilerplate. Batches are cut the same way by every engine, so the result
does not depend on where the step runs; inputs grouped by site (as WET files are) find more.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from oshie.corpus.filters import DocView, Normaliser

_COPYRIGHT = re.compile(r"(?i)(?:copyright|\(c\)|©|all rights reserved|無断(?:転載|複製)|禁無断転載)")
_NAV_WORDS = (
    "ホーム", "トップページ", "TOP", "お問い合わせ", "お問合せ", "プライバシーポリシー", "個人情報保護方針",
    "利用規約", "サイトマップ", "ログイン", "ログアウト", "会員登録", "新規登録", "ページの先頭へ",
    "ページトップへ", "前のページ", "次のページ", "前へ", "次へ", "関連記事", "シェア", "ツイート",
    "カテゴリー", "アーカイブ", "メニュー", "検索", "運営会社", "会社概要", "サイトについて",
)
_SEPARATORS = re.compile(r"\s*(?:[|｜/／>＞»›・]|&gt;)\s*")
_NAV = re.compile("|".join(re.escape(w) for w in sorted(_NAV_WORDS, key=len, reverse=True)))


def is_boilerplate_line(line: str, max_menu_item: int = 12) -> bool:
    """A copyright/footer line, or a navigation line: short items between separators that
    include at least one navigation word, or one navigation word alone."""
    s = line.strip()
    if not s:
        return False
    if len(s) <= 80 and _COPYRIGHT.search(s):
        return True
    if _NAV.fullmatch(s):
        return True
    items = [i for i in _SEPARATORS.split(s) if i]
    return len(items) >= 2 and all(len(i) <= max_menu_item for i in items) and any(_NAV.search(i) for i in items)


def host_of(meta: dict[str, Any]) -> str | None:
    url = meta.get("url")
    if not isinstance(url, str) or not url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def site_repeated_lines(metas: Iterable[dict[str, Any]], texts: Iterable[str], min_pages: int) -> dict[str, set[str]]:
    """host -> lines seen on at least `min_pages` distinct pages of that host in this batch."""
    counts: dict[str, Counter[str]] = {}
    for meta, text in zip(metas, texts, strict=True):
        host = host_of(meta)
        if host is None:
            continue
        counts.setdefault(host, Counter()).update({line.strip() for line in text.split("\n") if line.strip()})
    return {h: {line for line, n in c.items() if n >= min_pages} for h, c in counts.items()}


class BoilerplateLines(Normaliser):
    """Drops boilerplate lines (see `is_boilerplate_line`) and site-repeated lines; the
    repeated lines of the document's host arrive in `doc.meta['_repeated']`."""

    code = "boilerplate"

    def __init__(self, max_menu_item: int = 12) -> None:
        self.max_menu_item = max_menu_item

    def apply(self, doc: DocView) -> str:
        repeated: set[str] = doc.meta.get("_repeated") or set()
        lines = doc.text.split("\n")
        kept = [ln for ln in lines if not (ln.strip() in repeated or is_boilerplate_line(ln, self.max_menu_item))]
        if len(kept) == len(lines):
            return doc.text
        return "\n".join(kept).strip("\n")


def parse_meta(meta: str | dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(meta, dict):
        return meta
    if not meta:
        return {}
    try:
        value = json.loads(meta)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
