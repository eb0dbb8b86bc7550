"""What every synthesis command shares: LLM calls through the cache, provenance,
resumable outputs, drop accounting, the summary and the manifest.

A `SynthRun` is opened per command; records go out through `keep`, dropped candidates
through `drop` (to `OUT.rejected.jsonl` with their reason), and `finish` closes both
files, writes `OUT.manifest.json` and returns the summary the CLI prints.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from oshie.llm.base import LLM, Generation, GenerationParams, LLMRequest
from oshie.records import Conversation, PreferencePair, Provenance, stable_hash
from oshie.runs import Manifest, redact, write_json
from oshie.synth.output import ResumableJsonl, manifest_path, rejected_path


class Summary(BaseModel):
    stage: str
    out: str
    rejected: str
    manifest: str
    inputs: int = 0
    generated: int = 0  # candidates produced (before filtering)
    kept: int = 0
    dropped: dict[str, int] = Field(default_factory=dict)  # reason -> count
    counts: dict[str, int] = Field(default_factory=dict)  # pipeline-specific tallies
    llm_calls: int = 0  # requests sent this run (cache misses)
    cache_hits: int = 0
    resumed: int = 0  # records already in OUT from an interrupted run
    license_restricted: bool = False


def generator_name(llm: LLM) -> str:
    """The model name records cite: the served name, or a local model's directory name."""
    inner = getattr(llm, "inner", llm)
    if getattr(inner, "backend", "") == "local":
        return Path(str(inner.model)).name
    return str(inner.model)


def record_id(prefix: str, *parts: Any) -> str:
    """A deterministic id from content, so a rerun writes the same ids."""
    return f"{prefix}-{stable_hash(list(parts), 12)}"


class SynthRun:
    def __init__(
        self,
        stage: str,
        out: str | Path,
        llm: LLM,
        *,
        config: BaseModel | dict[str, Any] | None = None,
        license_restricted: bool = False,
        inputs: dict[str, str | Path] | None = None,
    ) -> None:
        self.stage = stage
        self.out_path = Path(out)
        self.llm = llm
        self.license_restricted = license_restricted
        self.generator = generator_name(llm)
        self._manifest = Manifest(self.out_path.parent, f"synth.{stage}")
        if isinstance(config, BaseModel):
            config = config.model_dump(mode="json")
        self._manifest.data["config"] = redact(config)
        for name, path in (inputs or {}).items():
            self._manifest.add_input(name, path)
        self.out = ResumableJsonl(self.out_path)
        self.rejected = ResumableJsonl(rejected_path(self.out_path))
        self.dropped: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()  # what a pipeline tallies beyond kept/dropped
        self.generated = 0
        self.inputs = 0
        self.calls = 0
        self.templates: set[str] = set()
        self._hits0 = getattr(llm, "hits", 0)
        self._misses0 = getattr(llm, "misses", 0)
        self._t0 = time.perf_counter()

    # -- LLM -------------------------------------------------------------------------------

    def generate(self, requests: Sequence[LLMRequest], desc: str | None = None) -> list[Generation]:
        if not requests:
            return []
        self.calls += len(requests)
        return self.llm.generate(list(requests), desc=desc)

    def provenance(
        self,
        *,
        template: str | None,
        params: GenerationParams,
        parent_id: str | None = None,
        sample_index: int | None = None,
        **extra: Any,
    ) -> Provenance:
        if template:
            self.templates.add(template)
        gen_params = params.model_dump(exclude_none=True)
        if sample_index is not None:
            gen_params["sample_index"] = sample_index
        return Provenance(
            source=f"oshie synth {self.stage}",
            generator_model=self.generator,
            prompt_template=template,
            generation_params=gen_params,
            parent_id=parent_id,
            stage=self.stage,
            license_restricted=self.license_restricted,
            **extra,
        )

    # -- outputs ---------------------------------------------------------------------------

    def keep(self, record: Conversation | PreferencePair) -> None:
        row = record.model_dump(mode="json", exclude_none=True)
        if not self.out.write(row):  # two inputs with one id would collide in the output
            self.drop(f"{record.id}#dup{self.dropped['duplicate_id']}", "duplicate_id",
                      f"a record with id '{record.id}' was already written", record=row)

    def drop(self, rid: str, reason: str, detail: str = "", **payload: Any) -> None:
        self.dropped[reason] += 1
        self.rejected.write({"id": rid, "stage": self.stage, "reason": reason,
                             "detail": detail, **payload})

    def finish(self) -> Summary:
        self.out.close()
        self.rejected.close()
        hits = getattr(self.llm, "hits", 0) - self._hits0
        misses = getattr(self.llm, "misses", None)
        summary = Summary(
            stage=self.stage, out=str(self.out_path), rejected=str(self.rejected.path),
            manifest=str(manifest_path(self.out_path)), inputs=self.inputs,
            generated=self.generated, kept=len(self.out), dropped=dict(self.dropped),
            counts=dict(sorted(self.counts.items())),
            llm_calls=(misses - self._misses0) if misses is not None else self.calls,
            cache_hits=hits, resumed=self.out.resumed_lines,
            license_restricted=self.license_restricted,
        )
        m = self._manifest
        m.set("llm", {**self.llm.identity(), "name": self.generator})
        m.set("prompt_templates", sorted(self.templates))
        m.set("outputs", {"records": str(self.out_path), "rejected": str(self.rejected.path)})
        m.set("summary", summary.model_dump(exclude={"out", "rejected", "manifest"}))
        m.data["wall_time_s"] = round(time.perf_counter() - self._t0, 3)
        write_json(manifest_path(self.out_path), m.data)
        return summary

    def abort(self) -> None:
        self.out.abort()
        self.rejected.abort()

    def __enter__(self) -> SynthRun:
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is not None:
            self.abort()
