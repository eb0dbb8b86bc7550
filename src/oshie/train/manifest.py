"""The record of a training run: `manifest.json` (inputs by fingerprint, config, result,
token counts) and `report.html`, written by the main process once the model is saved."""

from __future__ import annotations

from pathlib import Path

from oshie.runs import Manifest
from oshie.train.config import TrainCommon
from oshie.train.loop import TrainResult

__all__ = ["new_manifest", "write_manifest"]


def new_manifest(config: TrainCommon, kind: str) -> Manifest:
    """A manifest naming every input the run reads (model, datasets, reference model)."""
    manifest = Manifest(config.output_dir, f"train.{kind}", config)
    manifest.add_input("model", config.model)
    for i, spec in enumerate(config.datasets):  # type: ignore[attr-defined]
        manifest.add_input(f"dataset[{i}]", spec.path)
    if getattr(config, "ref_model", None):
        manifest.add_input("ref_model", config.ref_model)  # type: ignore[attr-defined]
    return manifest


def write_manifest(manifest: Manifest, result: TrainResult, config: TrainCommon) -> Path:
    """Add the result to the manifest, write report.html beside it, then the manifest."""
    from oshie.train.report import write_train_report

    # set directly: these are counts, and redact() would hide any key containing "token"
    manifest.data["result"] = {k: v for k, v in result.as_dict().items() if k != "output_dir"}
    manifest.data["token_counts"] = result.data
    manifest.data["tokens_per_second"] = result.tokens_per_second
    write_train_report(result, config, result.output_dir)
    return manifest.write(outputs={"model": ".", "log_history": "log_history.jsonl",
                                   "report": "report.html"})
