"""Instruction following without a judge: held-out instructions with reference answers.

Format: JSON lines with the instruction in `instruction` (or `input` / `prompt`) and the
reference answer in `reference` (or `output` / `references`, a list). oshie ships 30 such
items written for it (`oshie:evalsets/instructions/test.jsonl`).

Two tasks read the same file:

- `instruction_following` (generate): the model answers each instruction in its chat
  template; scored by character ROUGE-L F and character F1 against the reference. Its
  answers are what the response audit checks for English remnants, loops, boilerplate...
- `instruction_loss` (log-likelihood): the mean per-token negative log-likelihood of the
  reference answer. One common held-out set, so variants trained on different datasets are
  compared on the same text (their training losses are over different data and say nothing
  about which model is better).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oshie.eval.metrics.bootstrap import mean_entry
from oshie.eval.metrics.qa import f1_char
from oshie.eval.metrics.rouge import rouge_scores
from oshie.eval.requests import ChoiceScore, LoglikRequest
from oshie.eval.tasks.base import GenerateTask, Item, ReferenceTask, register

INSTRUCTION_FIELDS = ("instruction", "input", "prompt")
REFERENCE_FIELDS = ("reference", "references", "output")


class _InstructionTask(ReferenceTask):
    default_template = "chat"  # the tuned models were trained in their chat template
    input_key, input_fields, input_what = "instruction", INSTRUCTION_FIELDS, "instruction"
    reference_fields, reference_what = REFERENCE_FIELDS, "reference answer"

    def prompt(self, item: Item) -> str:
        if self.template == "chat" and self.chat is not None and not self.shots:
            # the instruction is the whole user turn (no task preamble before it)
            return self.chat([{"role": "user", "content": item["instruction"]}])
        return super().prompt(item)


@register
class InstructionFollowing(_InstructionTask, GenerateTask):
    name = "instruction_following"
    default_max_new_tokens = 96
    description = "Held-out instructions: char ROUGE-L F and char F1 against a reference answer"

    def record(self, item: Item, prompt: str, response: str) -> dict[str, Any]:
        pred = response.strip()
        return {
            "id": item["id"], "prompt": prompt, "instruction": item["instruction"],
            "output": pred, "gold": item["references"],
            "rougeL_char": rouge_scores(pred, item["references"], "char")["rougeL"],
            "f1_char": f1_char(pred, item["references"]),
        }

    def aggregate(self, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        seed = self.spec.seed
        return {
            "rougeL_char": mean_entry([r["rougeL_char"] for r in records], seed=seed, unit="char"),
            "f1_char": mean_entry([r["f1_char"] for r in records], seed=seed, unit="char"),
        }


@register
class InstructionLoss(_InstructionTask):
    name = "instruction_loss"
    kind = "loglik"
    description = "Held-out instructions: mean per-token NLL of the reference answer (lower is better)"

    def request(self, item: Item) -> LoglikRequest:
        return LoglikRequest(self.prompt(item), [item["references"][0]])

    def record(self, item: Item, prompt: str, response: list[ChoiceScore]) -> dict[str, Any]:
        score = response[0]
        return {
            "id": item["id"], "prompt": prompt, "reference": item["references"][0],
            "n_tokens": score.n_tokens, "loss": -score.logprob / max(1, score.n_tokens),
        }

    def aggregate(self, records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {
            "loss": mean_entry([r["loss"] for r in records], seed=self.spec.seed,
                               note="mean over items of the per-token NLL; lower is better"),
        }
