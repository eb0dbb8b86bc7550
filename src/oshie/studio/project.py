"""A studio project directory: `studio.yaml` (genres and purposes with target counts,
guidelines, UI language, database URL) and, by default, the SQLite file `studio.db` beside it.

    oshie studio init DIR    writes a commented studio.yaml and creates the database
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from oshie import config as shared
from oshie.errors import UsageError

CONFIG_NAME = "studio.yaml"

DEFAULT_CONFIG = """\
# oshie studio project
name: 指示データ作成プロジェクト
# UI language for new visitors: ja (Japanese) or en; everyone can switch in the page header
language: ja
# genres and purposes with the number of approved records the project aims for
genres:
  一般知識: 30
  生活・暮らし: 20
  文章作成: 20
  要約・抽出: 15
  創作: 15
purposes:
  説明: 40
  作成: 30
  変換: 15
  助言: 15
guidelines: |
  - 質問は自然な日本語で、答えが一つに定まるか、評価の観点が明確なものにする。
  - 回答は です・ます 調で統一し、英語の残りや翻訳調の表現を避ける。
  - 個人情報（氏名・電話番号・メールアドレスなど）は書かない。
  - 参考にした資料があれば参照URLに記入する。
# the database: empty = studio.db in this directory; a team server: postgresql://user@host/db
database: ""
"""


class StudioConfig(BaseModel):
    """The settings of one project (every field documented in DEFAULT_CONFIG)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "oshie studio"
    language: str = Field("ja", pattern="^(ja|en)$")
    genres: dict[str, int] = Field(default_factory=dict)
    purposes: dict[str, int] = Field(default_factory=dict)
    guidelines: str = ""
    database: str = ""


def load_project(project_dir: str | Path) -> StudioConfig:
    path = Path(project_dir) / CONFIG_NAME
    if not path.is_file():
        raise UsageError("not a studio project (no studio.yaml)", path=project_dir,
                         hint=f"create one with `oshie studio init {project_dir}`")
    return shared.validate(StudioConfig, shared.load_yaml(path, what="studio config"), path=path)


def database_url(project_dir: str | Path, override: str | None = None) -> str:
    """--db, else `database` in studio.yaml, else SQLite in the project directory."""
    from oshie.studio.db import sqlite_url

    if override:
        return override
    return load_project(project_dir).database or sqlite_url(project_dir)


def init_project(project_dir: str | Path) -> Path:
    """Write studio.yaml (never over an existing one)."""
    d = Path(project_dir)
    path = d / CONFIG_NAME
    if path.exists():
        raise UsageError("studio.yaml exists already", path=path,
                         hint="edit it, or choose a new directory")
    d.mkdir(parents=True, exist_ok=True)
    path.write_text(DEFAULT_CONFIG, encoding="utf-8")
    return path
