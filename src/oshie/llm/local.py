"""A local transformers model as an LLM: batched generation on left-padded prompts.

Chat requests go through the model's chat template (ChatML when it has none); completion
requests are the raw prompt (Magpie feeds a bare template prefix). Rows of one batch may
mix greedy and sampled requests: a logits processor samples each sampled row with its own
`torch.Generator` seeded from the request, so a seeded request gives the same answer
whatever else shares its batch. Stop strings and `max_tokens` are checked per row.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oshie.errors import LLMError, ModelError, require
from oshie.llm.base import LLM, Generation, LLMRequest, ResultCallback, Usage, _Progress
from oshie.runs import fingerprint

# Used only when a model directory has no chat template of its own.
CHATML_END = "<|im_end|>"  # end of a ChatML turn
CHATML_FALLBACK = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class LocalLLM(LLM):
    """`LocalLLM(model_dir, batch_size=8)`: safetensors weights, no remote code."""

    backend = "local"

    def __init__(
        self,
        model_dir: str | Path,
        batch_size: int = 8,
        device: str = "auto",
        model_name: str | None = None,
        dtype: str | None = None,
    ) -> None:
        path = Path(model_dir)
        if not (path / "config.json").is_file():
            raise ModelError(
                f"{path} is not a model directory (no config.json)",
                hint="pass a directory saved with save_pretrained, e.g. a training run's output",
            )
        super().__init__(model=model_name or path.resolve().name, concurrency=1)
        self.model_dir = path
        self.batch_size = max(1, batch_size)
        self.device = device
        self.dtype = dtype
        self.fingerprint = fingerprint(path)
        self._tokenizer: Any = None
        self._net: Any = None
        self._lock = threading.Lock()  # one forward pass at a time (server threads)
        self._load_lock = threading.Lock()

    # Weights load on first use: a run answered entirely from the cache never loads them.
    @property
    def tokenizer(self) -> Any:
        self._load()
        return self._tokenizer

    @property
    def net(self) -> Any:
        self._load()
        return self._net

    @property
    def max_positions(self) -> int | None:
        return getattr(self.net.config, "max_position_embeddings", None)

    def _load(self) -> None:
        if self._net is not None:
            return
        with self._load_lock:
            if self._net is None:
                self._load_now()

    def _load_now(self) -> None:
        torch = require("torch", "train")
        transformers = require("transformers", "train")
        # the "Loading weights" bar is noise between oshie's own messages (and in server logs)
        transformers.utils.logging.disable_progress_bar()
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(self.model_dir))
            net = transformers.AutoModelForCausalLM.from_pretrained(
                str(self.model_dir),
                use_safetensors=True,
                trust_remote_code=False,
                dtype=getattr(torch, self.dtype) if self.dtype else "auto",
            )
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"cannot load the model in {self.model_dir}: {exc}",
                hint="the directory needs config.json, *.safetensors and a tokenizer",
            ) from exc
        if self.device == "auto":
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
        net.to(self.device).eval()
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.eos_ids = _eos_ids(net, tokenizer)
        self._tokenizer, self._net = tokenizer, net

    def __repr__(self) -> str:
        return f"LocalLLM({str(self.model_dir)!r})"

    def identity(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model, "fingerprint": self.fingerprint}

    # -- prompts -------------------------------------------------------------------------

    def prompt_ids(self, request: LLMRequest) -> list[int]:
        if request.kind == "chat":
            # the model's own template(s) when it has any, else ChatML
            fallback = None if self.tokenizer.chat_template else CHATML_FALLBACK
            text = self.tokenizer.apply_chat_template(
                request.messages, chat_template=fallback, tokenize=False, add_generation_prompt=True
            )
            return self.tokenizer(text, add_special_tokens=False)["input_ids"]
        return self.tokenizer(request.prompt, add_special_tokens=True)["input_ids"]

    # -- generation ----------------------------------------------------------------------

    async def _schedule(
        self, requests: Sequence[LLMRequest], deliver: ResultCallback, desc: str | None
    ) -> None:
        """Batches of `batch_size`, one at a time (the model is one; batching is the speed)."""
        # similar lengths share a batch: less padding (tokenised in a thread: a server's
        # event loop must not stall on a long prompt)
        lengths = await asyncio.to_thread(lambda: [len(self.prompt_ids(r)) for r in requests])
        order = sorted(range(len(requests)), key=lengths.__getitem__)
        with _Progress(desc, len(requests)) as bar:
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                gens = await asyncio.to_thread(self.generate_batch, [requests[i] for i in chunk])
                for i, gen in zip(chunk, gens, strict=True):
                    deliver(i, gen)
                bar.advance(len(chunk))

    async def _agenerate_one(self, request: LLMRequest) -> Generation:
        return (await asyncio.to_thread(self.generate_batch, [request]))[0]

    def generate_batch(self, requests: Sequence[LLMRequest]) -> list[Generation]:
        """Generate one batch synchronously (thread-safe; batches run one at a time)."""
        if not requests:
            return []
        torch = require("torch", "train")
        transformers = require("transformers", "train")
        prompts = [self.prompt_ids(r) for r in requests]
        budgets = [self._budget(r, len(p)) for r, p in zip(requests, prompts, strict=True)]
        width = max(len(p) for p in prompts)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
        attention = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
        sampler = _row_sampler(requests, transformers.LogitsProcessor)
        stop_ids = [self._stop_token_ids(r) for r in requests]
        stopper = _row_stopper(
            requests, budgets, stop_ids, width, self.tokenizer, transformers.StoppingCriteria
        )
        config = transformers.GenerationConfig(
            max_new_tokens=max(budgets),
            do_sample=False,
            pad_token_id=pad,
            eos_token_id=self.eos_ids,
        )
        with self._lock, torch.inference_mode():
            out = self.net.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention.to(self.device),
                generation_config=config,
                logits_processor=transformers.LogitsProcessorList([sampler]),
                stopping_criteria=transformers.StoppingCriteriaList([stopper]),
            )
        return [
            self._finish(r, out[i, width:].tolist(), budgets[i], len(prompts[i]), stop_ids[i])
            for i, r in enumerate(requests)
        ]

    def _stop_token_ids(self, request: LLMRequest) -> set[int]:
        """Stop strings that are special tokens (e.g. "<|im_end|>") never show up in the
        decoded text, so they stop generation as token ids instead."""
        added = self.tokenizer.get_added_vocab()
        stops = set(request.params.stop or [])
        if request.kind == "chat" and CHATML_END in added:
            # a chat turn ends with the template's end-of-turn token even when the model's
            # configured EOS is another one (e.g. <|endoftext|>): without it a chat answer
            # would run on into an invented next turn until max_tokens
            template = self.tokenizer.chat_template or CHATML_FALLBACK
            if CHATML_END in str(template):
                stops.add(CHATML_END)
        return {added[s] for s in stops if s in added}

    def check_fits(self, request: LLMRequest) -> None:
        """Raise LLMError now if the prompt leaves no room to generate (the server checks
        each request before it joins a shared batch, so one bad prompt fails alone)."""
        self._budget(request, len(self.prompt_ids(request)))

    def _budget(self, request: LLMRequest, prompt_len: int) -> int:
        if self.max_positions is None:
            return request.params.max_tokens
        room = self.max_positions - prompt_len
        if room < 1:
            raise LLMError(
                f"the prompt has {prompt_len} tokens but {self.model_dir} takes at most "
                f"{self.max_positions} positions",
                hint="shorten the prompt",
            )
        return max(1, min(request.params.max_tokens, room))

    def _finish(
        self,
        request: LLMRequest,
        tokens: list[int],
        budget: int,
        prompt_len: int,
        stop_ids: set[int],
    ) -> Generation:
        tokens = tokens[:budget]
        finish = "length"
        for pos, tok in enumerate(tokens):
            if tok in self.eos_ids or tok in stop_ids:
                tokens, finish = tokens[: pos + 1], "stop"
                break
        generated = len(tokens)
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        if finish == "length":
            tokens, text = self._whole_characters(tokens, text)
        cut = _first_stop(text, request.params.stop)
        if cut is not None:
            text, finish = text[:cut], "stop"
            # count tokens until the stop string was complete, as the generation did
            while (
                len(tokens) > 1
                and _first_stop(
                    self.tokenizer.decode(tokens[:-1], skip_special_tokens=True),
                    request.params.stop,
                )
                is not None
            ):
                tokens = tokens[:-1]
        return Generation(
            text=text,
            finish_reason=finish,
            usage=Usage(
                prompt_tokens=prompt_len,
                completion_tokens=len(tokens) if finish == "stop" else generated,
            ),
        )

    def _whole_characters(self, tokens: list[int], text: str) -> tuple[list[int], str]:
        """A cut at max_tokens can fall inside a character: byte-level BPE spreads one
        character over several tokens, and decoding the first of them gives U+FFFD. Drop
        those trailing tokens (a UTF-8 character has at most 4 bytes) so the cut answer
        ends on a whole character; a U+FFFD that more tokens would not mend stays."""
        for n in range(1, min(4, len(tokens)) + 1):
            if not text.endswith("\ufffd"):
                break
            shorter = self.tokenizer.decode(tokens[:-n], skip_special_tokens=True)
            if not shorter.endswith("\ufffd"):
                return tokens[:-n], shorter
        return tokens, text

    def load(self) -> LocalLLM:
        """Load the weights now (the server does, so the first request is not slow)."""
        self._load()
        return self

    def close(self) -> None:
        self._net = self._tokenizer = None


def _eos_ids(net: Any, tokenizer: Any) -> list[int]:
    ids: list[int] = []
    configured = getattr(net.generation_config, "eos_token_id", None)
    for x in configured if isinstance(configured, list) else [configured]:
        if isinstance(x, int):
            ids.append(x)
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids


def _first_stop(text: str, stops: list[str] | None) -> int | None:
    hits = [text.find(s) for s in stops or [] if s and s in text]
    return min(hits) if hits else None


def _row_sampler(requests: Sequence[LLMRequest], base: type) -> Any:
    """A logits processor that samples each sampled row with its own generator and leaves
    greedy rows alone; the chosen token is made the only finite score, so greedy decoding
    downstream picks it."""
    import torch

    class RowSampler(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.rows: list[tuple[float, float, torch.Generator] | None] = []
            for r in requests:
                if r.params.temperature <= 0:
                    self.rows.append(None)
                    continue
                seed = r.effective_seed()
                g = torch.Generator().manual_seed(
                    seed if seed is not None else secrets.randbits(62)
                )
                self.rows.append((r.params.temperature, r.params.top_p, g))

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            for i, row in enumerate(self.rows):
                if row is None:
                    continue
                temperature, top_p, gen = row
                probs = torch.softmax(scores[i].float() / temperature, dim=-1)
                if top_p < 1.0:
                    probs = _top_p(probs, top_p)
                token = torch.multinomial(probs.cpu(), 1, generator=gen).item()
                scores[i] = -math.inf
                scores[i, token] = 0.0
            return scores

    return RowSampler()


def _top_p(probs: Any, top_p: float) -> Any:
    import torch

    sorted_p, idx = torch.sort(probs, descending=True)
    keep = torch.cumsum(sorted_p, dim=-1) - sorted_p < top_p  # always keeps the top token
    filtered = torch.zeros_like(probs)
    filtered[idx[keep]] = sorted_p[keep]
    return filtered / filtered.sum()


def _row_stopper(
    requests: Sequence[LLMRequest],
    budgets: list[int],
    stop_ids: list[set[int]],
    width: int,
    tokenizer: Any,
    base: type,
) -> Any:
    """Stops each row at its own max_tokens or its own stop strings."""
    import torch

    class RowStopper(base):  # type: ignore[misc, valid-type]
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            n = input_ids.shape[1] - width
            done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            for i, r in enumerate(requests):
                if n >= budgets[i] or (n > 0 and int(input_ids[i, -1]) in stop_ids[i]):
                    done[i] = True
                elif r.params.stop:
                    text = tokenizer.decode(input_ids[i, width:], skip_special_tokens=True)
                    done[i] = _first_stop(text, r.params.stop) is not None
            return done

    return RowStopper()
