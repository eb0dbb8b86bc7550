"""A learned quality classifier: clean vs dirty text from character n-grams (fastText-style
features through scikit-learn's stateless `HashingVectorizer`) and a logistic regression.

`train` holds out every `holdout_every`-th document of each class, reports precision, recall
and ROC AUC on them, and picks the lowest score threshold whose held-out precision reaches
`target_precision`. The model directory holds `model.safetensors` (weights and bias) and
`classifier.json` (features, threshold, metrics): no pickle. `QualityFilter` uses it as a
document filter, so `oshie corpus clean` and `oshie corpus classifier score` share one scorer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from oshie.corpus.filters import DocFilter, DocView
from oshie.corpus.streams import Quarantined, list_shards, read_shard
from oshie.errors import ModelError, UsageError, require


class ClassifierConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ngram_min: int = 1
    ngram_max: int = Field(3, description="character n-grams from ngram_min to ngram_max")
    n_features: int = Field(2**20, description="hashed feature space")
    c: float = Field(4.0, description="inverse regularisation strength of the logistic regression")
    target_precision: float = Field(0.95, gt=0, le=1, description="the threshold is the lowest score reaching this held-out precision")
    holdout_every: int = Field(5, ge=2, description="hold out every N-th document of each class")
    max_docs: int = Field(200_000, description="documents read per class at most")
    seed: int = 0


def _vectorizer(cfg: dict[str, Any]) -> Any:
    fe = require("sklearn.feature_extraction.text", "corpus")
    return fe.HashingVectorizer(analyzer="char", ngram_range=(cfg["ngram_min"], cfg["ngram_max"]),
                                n_features=cfg["n_features"], alternate_sign=False, norm="l2", lowercase=False)


def read_texts(paths: list[Path], limit: int, text_field: str = "text") -> list[str]:
    def docs() -> Iterator[str]:
        for shard in list_shards(paths):
            for d in read_shard(shard, text_field=text_field):
                if not isinstance(d, Quarantined) and d["text"].strip():
                    yield d["text"]

    out = []
    for text in docs():
        out.append(text)
        if len(out) >= limit:
            break
    if not out:
        raise UsageError("no documents to learn from", path=paths[0] if paths else None)
    return out


def metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    m = require("sklearn.metrics", "corpus")
    pred = scores >= threshold
    return {"precision": round(float(m.precision_score(y, pred, zero_division=0)), 4),
            "recall": round(float(m.recall_score(y, pred, zero_division=0)), 4),
            "auc": round(float(m.roc_auc_score(y, scores)), 4), "threshold": round(float(threshold), 6),
            "documents": len(y), "clean": int(y.sum())}


def threshold_for_precision(y: np.ndarray, scores: np.ndarray, target: float) -> float:
    """The lowest threshold whose precision on (y, scores) is at least `target` (0.5 if none)."""
    m = require("sklearn.metrics", "corpus")
    precision, _recall, thresholds = m.precision_recall_curve(y, scores)
    ok = np.flatnonzero(precision[:-1] >= target)
    return float(thresholds[ok[0]]) if len(ok) else 0.5


def train(clean: list[str], dirty: list[str], out_dir: Path, cfg: ClassifierConfig) -> dict[str, Any]:
    lm = require("sklearn.linear_model", "corpus")
    st = require("safetensors.numpy", "train")
    texts = clean + dirty
    y = np.array([1] * len(clean) + [0] * len(dirty))
    held = np.zeros(len(texts), dtype=bool)
    held[np.arange(0, len(clean), cfg.holdout_every)] = True
    held[len(clean) + np.arange(0, len(dirty), cfg.holdout_every)] = True
    params = cfg.model_dump()
    vec = _vectorizer(params)
    x = vec.transform(texts)
    model = lm.LogisticRegression(C=cfg.c, max_iter=1000, random_state=cfg.seed, solver="liblinear")
    model.fit(x[~held], y[~held])
    scores = model.predict_proba(x[held])[:, 1]
    threshold = threshold_for_precision(y[held], scores, cfg.target_precision)
    report = {"features": params, "threshold": threshold, "heldout": metrics(y[held], scores, threshold),
              "trained_on": {"clean": int((~held & (y == 1)).sum()), "dirty": int((~held & (y == 0)).sum())}}
    out_dir.mkdir(parents=True, exist_ok=True)
    st.save_file({"weight": model.coef_[0].astype(np.float32), "bias": model.intercept_.astype(np.float32)},
                 str(out_dir / "model.safetensors"))
    (out_dir / "classifier.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return report


class Scorer:
    """P(clean) of texts, from a saved model directory."""

    def __init__(self, model_dir: str | Path) -> None:
        d = Path(model_dir)
        if not (d / "model.safetensors").is_file() or not (d / "classifier.json").is_file():
            raise ModelError("not a quality classifier directory (model.safetensors + classifier.json)", path=d,
                             hint="train one with `oshie corpus classifier train`")
        st = require("safetensors.numpy", "train")
        tensors = st.load_file(str(d / "model.safetensors"))
        self.info = json.loads((d / "classifier.json").read_text("utf-8"))
        self.weight, self.bias = tensors["weight"].astype(np.float64), float(tensors["bias"][0])
        self.vectorizer = _vectorizer(self.info["features"])
        self.threshold = float(self.info["threshold"])

    def scores(self, texts: list[str]) -> np.ndarray:
        z = self.vectorizer.transform(texts) @ self.weight + self.bias
        return 1.0 / (1.0 + np.exp(-z))


@lru_cache(maxsize=4)
def scorer(model_dir: str) -> Scorer:
    return Scorer(model_dir)


class QualityFilter(DocFilter):
    """Drops documents the classifier scores below its threshold (or `threshold`)."""

    code = "quality"

    def __init__(self, model_dir: str, threshold: float | None = None) -> None:
        self.model_dir = model_dir
        self._scorer = scorer(model_dir)
        self.threshold = self._scorer.threshold if threshold is None else threshold

    def apply(self, doc: DocView) -> str | None:
        s = float(self._scorer.scores([doc.text])[0])
        doc.meta["quality_score"] = round(s, 4)  # written into the document's metadata
        return f"score {s:.3f} < {self.threshold:.3f}" if s < self.threshold else None


def evaluate(model_dir: Path, clean: list[str], dirty: list[str], threshold: float | None = None) -> dict[str, Any]:
    sc = Scorer(model_dir)
    y = np.array([1] * len(clean) + [0] * len(dirty))
    return metrics(y, sc.scores(clean + dirty), sc.threshold if threshold is None else threshold)
