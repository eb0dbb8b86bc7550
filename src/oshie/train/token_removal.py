"""Removing unsuitable pieces from a trained tokenizer, for every kind oshie trains.

One step for both model families of the `tokenizers` library, applied to the trained backend
before it is saved:

- **Unigram** (SentencePiece unigram): a piece is simply dropped from the vocabulary; the
  segmenter picks the best split among the remaining pieces and byte fallback covers the rest.
- **BPE** (byte-level BPE, SentencePiece BPE): a token exists only as the result of a merge,
  and later merges build on it. Removing a token therefore removes every merge that produces
  it or uses it, and then every token that no remaining merge can produce any more (it was
  built from the removed one, so it contains its text). This repeats until nothing changes;
  the cascaded tokens are reported under `built_from_removed` unless they are unsuitable in
  their own right. What is left is a consistent BPE model: every remaining token has a
  remaining merge whose two inputs remain, and text that held a removed token is encoded
  with the shorter tokens it was merged from.

Special tokens, the unknown piece and byte-fallback pieces (`<0xE3>`) are never removed.
Piece ids are renumbered in their original order, so special tokens keep theirs.
Pieces are judged by their decoded text (the backend's decoder: byte-level pieces become
Japanese text, a partial UTF-8 sequence becomes U+FFFD, "▁" becomes a space).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from oshie.errors import UsageError

CASCADE = "built_from_removed"
_BYTE_PIECE = re.compile(r"<0x[0-9A-Fa-f]{2}>")


@dataclass
class PieceRemoval:
    """Which pieces to remove (`reason_of(text) -> reason or None`) and, after `apply`, what
    was removed: decoded text of every removed piece by reason."""

    reason_of: Callable[[str], str | None]
    removed: dict[str, list[str]] = field(default_factory=dict)

    def apply(self, backend: Any, protected: Iterable[str] = ()) -> Any:
        """A new `tokenizers.Tokenizer` without the unsuitable pieces of `backend`."""
        from tokenizers import Tokenizer

        data = json.loads(backend.to_str())
        model = data["model"]
        keep = set(protected) | {t["content"] for t in data.get("added_tokens", [])}
        if model.get("unk_token"):
            keep.add(model["unk_token"])

        def text(piece: str) -> str:
            return backend.decoder.decode([piece]) if backend.decoder is not None else piece

        def flagged(piece: str) -> str | None:
            if piece in keep or (model.get("byte_fallback") and _BYTE_PIECE.fullmatch(piece)):
                return None
            return self.reason_of(text(piece))

        if model["type"] == "Unigram":
            order = [p for p, _ in model["vocab"]]
            unk = order[model["unk_id"]] if model.get("unk_id") is not None else None
            keep.add(unk or "")
            gone = self._flag(order, flagged, text)
            model["vocab"] = [[p, s] for p, s in model["vocab"] if p not in gone]
            new_ids = {p: i for i, (p, _) in enumerate(model["vocab"])}
            if unk is not None:
                model["unk_id"] = new_ids[unk]
        elif model["type"] == "BPE":
            order = sorted(model["vocab"], key=model["vocab"].__getitem__)
            gone = self._flag(order, flagged, text)
            model["merges"] = self._prune_merges(model["merges"], gone, keep, text)
            model["vocab"] = {p: i for i, p in enumerate(p for p in order if p not in gone)}
            new_ids = model["vocab"]
        else:
            raise UsageError(f"removing pieces is not supported for {model['type']} tokenizers",
                             hint="train a unigram or BPE tokenizer (--type sp-unigram, sp-bpe or bpe)")
        for tok in data.get("added_tokens", []):
            if tok["content"] in new_ids:
                tok["id"] = new_ids[tok["content"]]
        return Tokenizer.from_str(json.dumps(data, ensure_ascii=False))

    def _flag(self, pieces: list[str], flagged: Callable[[str], str | None], text: Callable[[str], str]) -> set[str]:
        gone: set[str] = set()
        for p in pieces:
            reason = flagged(p)
            if reason:
                gone.add(p)
                self.removed.setdefault(reason, []).append(text(p))
        return gone

    def _prune_merges(self, merges: list[Any], gone: set[str], keep: set[str],
                      text: Callable[[str], str]) -> list[Any]:
        """Drop merges touching removed tokens, then tokens no merge can make, until stable."""
        pairs = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in merges]
        produced = {a + b for a, b in pairs}
        while True:
            alive = [(m, (a, b)) for m, (a, b) in zip(merges, pairs, strict=True)
                     if a not in gone and b not in gone and a + b not in gone]
            reachable = {a + b for _, (a, b) in alive}
            orphans = {t for t in produced - reachable - gone - keep}
            if not orphans:
                return [m for m, _ in alive]
            for t in sorted(orphans):
                reason = self.reason_of(text(t)) or CASCADE
                self.removed.setdefault(reason, []).append(text(t))
            gone |= orphans
            merges, pairs = [m for m, _ in alive], [p for _, p in alive]
