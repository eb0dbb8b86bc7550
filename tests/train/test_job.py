"""When a checkpoint counts as finished, and what resuming does with one (no model needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oshie.errors import UsageError
from oshie.experiment.stages import _resume_flags
from oshie.train.config import SFTConfig
from oshie.train.job import is_finished, prepare_output_dir


def _run_dir(tmp_path: Path, step: int, epoch: float) -> Path:
    ckpt = tmp_path / "run" / f"checkpoint-{step}"
    ckpt.mkdir(parents=True)
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": step, "epoch": epoch}))
    return ckpt


def _config(out: Path, **extra) -> SFTConfig:
    return SFTConfig(model="m", output_dir=str(out), datasets=[{"path": "d.jsonl"}], **extra)


def test_finished_by_max_steps_or_by_epochs(tmp_path: Path) -> None:
    ckpt = _run_dir(tmp_path, 25, 1.5)
    out = ckpt.parent
    assert is_finished(_config(out, max_steps=25), ckpt)
    assert is_finished(_config(out, max_steps=10), ckpt)
    assert not is_finished(_config(out, max_steps=26), ckpt)
    assert is_finished(_config(out, epochs=1.5), ckpt)  # max_steps unset: epochs decide
    assert not is_finished(_config(out, epochs=2), ckpt)


def test_resume_refuses_a_finished_checkpoint_and_continues_an_unfinished_one(tmp_path: Path) -> None:
    ckpt = _run_dir(tmp_path, 25, 1.0)
    with pytest.raises(UsageError, match="checkpoint-25 has already trained 25 steps"):
        prepare_output_dir(_config(ckpt.parent, max_steps=20), resume=True, overwrite=False)
    assert prepare_output_dir(_config(ckpt.parent, max_steps=50), resume=True, overwrite=False) == ckpt


def test_an_experiment_stage_restarts_a_finished_checkpoint_instead_of_failing(tmp_path: Path) -> None:
    ckpt = _run_dir(tmp_path, 25, 1.0)
    assert _resume_flags(ckpt.parent, _config(ckpt.parent, max_steps=50)) == {"resume": True}
    assert _resume_flags(ckpt.parent, _config(ckpt.parent, max_steps=25)) == {"overwrite": True}
