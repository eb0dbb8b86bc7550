"""Run by test_resume as a subprocess: one batch through CachedLLM(OpenAICompatLLM).

usage: python -m tests.llm.batch_worker BASE_URL DB N OUT_JSON
"""

from __future__ import annotations

import json
import sys

from tests.llm.helpers import batch

from oshie.llm import CachedLLM, OpenAICompatLLM


def main() -> None:
    base_url, db, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    llm = CachedLLM(
        OpenAICompatLLM(
            base_url, model="m", api_key_env=None, concurrency=3, timeout=60, max_retries=0
        ),
        db,
    )
    gens = llm.generate(batch(n))
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(
            {"texts": [g.text for g in gens], "hits": llm.hits, "misses": llm.misses},
            fh,
            ensure_ascii=False,
        )


if __name__ == "__main__":
    main()
