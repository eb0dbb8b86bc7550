"""What a task is: items read from a local file in the official format, a prompt per item,
a typed request, a per-item record, and metrics over records. Tasks never run the model.
"""

from __future__ import annotations

import json
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from oshie.errors import DataError, UsageError
from oshie.eval.prompting import TEMPLATES, Example, build_prompt
from oshie.eval.requests import ChoiceScore, GenerateRequest, LoglikRequest
from oshie.jsonl import json_lines, read_utf8

Item = dict[str, Any]


class TaskSpec(BaseModel):
    """One task of a run (a CLI invocation or one entry of a suite YAML)."""

    model_config = ConfigDict(extra="forbid")

    task: str                         # registered task name, e.g. jcommonsenseqa
    data: Path                        # evaluation file in the task's official format
    train_data: Path | None = None    # file the few-shot examples are drawn from
    shots: int | None = None          # None: the task's default (0 when there is no train file)
    limit: int | None = None          # first N items only
    template: str | None = None       # instruction | plain | chat (None: the task's default)
    seed: int = 0                     # few-shot draw and bootstrap seed
    max_new_tokens: int | None = None  # generation tasks: None means the task decides
    name: str | None = None           # key in results.json (default: the task name)

    @property
    def key(self) -> str:
        return self.name or self.task


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) pairs from JSON lines (or a JSON array: element numbers);
    blank lines skipped; a bad line is a DataError naming it."""
    if not path.is_file():
        raise DataError("file not found", path=path, hint="pass an existing local file")
    text = read_utf8(path)
    if not text.lstrip().startswith("["):
        return list(json_lines(text, path))
    # a JSON array of objects is accepted too
    rows = []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from exc
    for n, obj in enumerate(data, 1):
        if not isinstance(obj, dict):
            raise DataError(f"element {n} of the array is not an object", path=path)
        rows.append((n, obj))
    return rows


def need(obj: dict[str, Any], field: str, path: Path, line: int | None, kind: type | tuple = str) -> Any:
    if field not in obj:
        raise DataError("missing field", path=path, line=line, field=field,
                        hint="check that the file is in the task's official format")
    value = obj[field]
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise DataError(f"bad value {value!r}", path=path, line=line, field=field)
    return value


def text_of(obj: dict[str, Any], fields: Sequence[str], path: Path, line: int | None,
            what: str) -> str:
    """The item's input text: the first of `fields` holding a non-blank string; none is a
    DataError naming all the accepted fields."""
    text = next((obj[f] for f in fields if isinstance(obj.get(f), str) and obj[f].strip()), None)
    if text is None:
        raise DataError(f"missing {what}", path=path, line=line, field="/".join(fields))
    return text


def references_of(obj: dict[str, Any], fields: Sequence[str], path: Path, line: int | None,
                  what: str) -> list[str]:
    """The reference texts of an item: the first of `fields` that is set, a string or a list
    of strings; a missing or blank one is a DataError naming all the accepted fields."""
    ref = next((obj[f] for f in fields if obj.get(f)), None)
    refs = [ref] if isinstance(ref, str) else ref
    if not refs or not all(isinstance(r, str) and r.strip() for r in refs):
        raise DataError(f"missing or empty {what}", path=path, line=line, field="/".join(fields))
    return refs


class Task(ABC):
    name: ClassVar[str]
    kind: ClassVar[Literal["loglik", "generate"]]
    default_shots: ClassVar[int] = 0
    default_template: ClassVar[str] = "instruction"
    instruction: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init__(self, spec: TaskSpec, chat: Callable | None = None) -> None:
        self.spec = spec
        self.chat = chat
        self.template = spec.template or self.default_template
        if self.template not in TEMPLATES:
            raise UsageError(f"unknown prompt template '{self.template}'",
                             hint=f"choose one of: {', '.join(TEMPLATES)}")
        self.shots_n = spec.shots if spec.shots is not None else (
            self.default_shots if spec.train_data else 0)
        if self.shots_n > 0 and spec.train_data is None:
            raise UsageError(f"{self.name}: --shots {self.shots_n} needs --train-data",
                             hint="give a train file to draw examples from, or pass --shots 0")
        self.all_items = self.load(spec.data)
        # --limit takes a prefix of the file: a limited run is the start of the full run
        self.items = self.all_items[: spec.limit] if spec.limit is not None else self.all_items
        self.shots: list[Example] = []
        if self.shots_n > 0:
            train = self.load(spec.train_data)  # type: ignore[arg-type]
            if len(train) < self.shots_n:
                raise DataError(f"needs {self.shots_n} few-shot examples, file has {len(train)}",
                                path=spec.train_data)
            # one fixed, seeded draw for the whole run: every item sees the same examples
            picked = random.Random(spec.seed).sample(range(len(train)), self.shots_n)
            self.shots = [Example(self.query(train[i]), self.answer_text(train[i])) for i in picked]

    # --- what each task defines ---
    def load(self, path: Path) -> list[Item]:
        """The items of an evaluation (or few-shot) file: by default JSON lines, one item per
        line (`parse_item`); a task whose official format is not JSON lines overrides this."""
        return [self.parse_item(obj, path, line) for line, obj in read_jsonl(path)]

    def parse_item(self, obj: dict[str, Any], path: Path, line: int) -> Item:
        """One item from one JSON line; a bad line is a DataError naming the file, line and field."""
        raise NotImplementedError(f"{type(self).__name__} defines neither load nor parse_item")

    @abstractmethod
    def query(self, item: Item) -> str:
        """The item's input block (question, choices, passage...)."""

    @abstractmethod
    def answer_text(self, item: Item) -> str:
        """The gold answer as the model should write it (used for few-shot examples)."""

    @abstractmethod
    def record(self, item: Item, prompt: str, response: Any) -> dict[str, Any]: ...

    @abstractmethod
    def aggregate(self, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]: ...

    # --- shared ---
    def prompt(self, item: Item) -> str:
        return build_prompt(self.template, self.instruction, self.query(item), self.shots, self.chat)

    @abstractmethod
    def request(self, item: Item) -> LoglikRequest | GenerateRequest:
        """The typed request the runner batches for this item."""

    def settings(self) -> dict[str, Any]:
        """What changes the per-item results (part of the resume key and the manifest).
        `limit` is not: it chooses which items run, not how an item scores."""
        return {"task": self.name, "template": self.template, "shots": self.shots_n,
                "seed": self.spec.seed}

    def evidence(self, item: Item) -> list[str]:
        """Texts of which one must stay in the prompt for the item to be answerable
        (default: the whole query; extractive QA: any gold answer)."""
        return [self.query(item)]

    def answer_cut(self, item: Item, prompt: str, kept_from: int) -> bool:
        """Whether cutting the prompt's first `kept_from` characters lost the item's evidence
        (cuts inside the few-shot examples alone lose nothing of the item)."""
        if kept_from <= 0:
            return False
        start = prompt.rfind(self.query(item))
        if 0 <= start and kept_from <= start:
            return False
        visible = prompt[kept_from:]
        return not any(e in visible for e in self.evidence(item))


class ChoiceTask(Task):
    """A task answered by scoring a fixed set of continuations (choices or label words)."""

    kind = "loglik"

    @abstractmethod
    def choices(self, item: Item) -> list[str]: ...

    @abstractmethod
    def gold_index(self, item: Item) -> int: ...

    def answer_text(self, item: Item) -> str:
        return self.choices(item)[self.gold_index(item)]

    def request(self, item: Item) -> LoglikRequest:
        return LoglikRequest(self.prompt(item), self.choices(item))

    def record(self, item: Item, prompt: str, response: list[ChoiceScore]) -> dict[str, Any]:
        choices = self.choices(item)
        logp = [s.logprob for s in response]
        norm = [s.logprob / max(1, len(c)) for s, c in zip(response, choices, strict=True)]
        pred = max(range(len(logp)), key=logp.__getitem__)
        pred_norm = max(range(len(norm)), key=norm.__getitem__)
        gold = self.gold_index(item)
        return {
            "id": item["id"], "prompt": prompt, "choices": choices,
            "logprobs": logp, "logprobs_norm": norm,
            "n_tokens": [s.n_tokens for s in response],
            "pred": pred, "pred_norm": pred_norm, "gold": gold,
            "correct": pred == gold, "correct_norm": pred_norm == gold,
        }


class ReferenceTask(Task):
    """A task whose item is one input text and its reference texts (an instruction and its
    reference answer, a document and its reference summaries), read from JSON lines whose
    field names vary between datasets: the first of `input_fields` / `reference_fields`
    that is set. The item keeps the input under `input_key`, the references as a list."""

    input_key: ClassVar[str]                  # e.g. "instruction"
    input_fields: ClassVar[tuple[str, ...]]   # accepted names of the input field, in order
    reference_fields: ClassVar[tuple[str, ...]]
    input_what: ClassVar[str] = "input text"  # how errors name them
    reference_what: ClassVar[str] = "reference"

    def parse_item(self, obj: dict[str, Any], path: Path, line: int) -> Item:
        return {
            "id": str(obj.get("id", line)),
            self.input_key: text_of(obj, self.input_fields, path, line, self.input_what),
            "references": references_of(obj, self.reference_fields, path, line,
                                        self.reference_what),
        }

    def query(self, item: Item) -> str:
        return item[self.input_key]

    def answer_text(self, item: Item) -> str:
        return item["references"][0]


class GenerateTask(Task):
    """A task answered by greedy generation, up to `stop` or a token budget: the spec's
    `max_new_tokens`, else the task's `default_max_new_tokens` (a task may derive the
    budget from its data by overriding `max_new_tokens`)."""

    kind = "generate"
    default_max_new_tokens: ClassVar[int] = 128
    stop: ClassVar[tuple[str, ...]] = ("\n\n",)

    def max_new_tokens(self, encode: Callable[[str], list[int]]) -> int:
        return self.spec.max_new_tokens or self.default_max_new_tokens

    def request(self, item: Item, max_new_tokens: int | None = None) -> GenerateRequest:
        budget = max_new_tokens or self.default_max_new_tokens
        return GenerateRequest(self.prompt(item), max_new_tokens=budget, stop=list(self.stop))


REGISTRY: dict[str, type[Task]] = {}


def register(cls: type[Task]) -> type[Task]:
    REGISTRY[cls.name] = cls
    return cls
