"""Parquet files and Hugging Face `save_to_disk` directories (Arrow tables): readers and writers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oshie.data.files.base import RawRow, Source, atomic, cell_text, columns_of
from oshie.errors import DataError, require
from oshie.jsonl import jsonable


def _unsafe(dtype: Any) -> bool:
    """Whether Arrow values of this type come out of `to_pylist` as objects JSON cannot hold
    (datetime, date, time, duration, bytes, Decimal), also inside lists, structs and maps."""
    import pyarrow.types as t

    if t.is_temporal(dtype) or t.is_binary(dtype) or t.is_large_binary(dtype) \
            or t.is_fixed_size_binary(dtype) or t.is_decimal(dtype):
        return True
    return any(_unsafe(dtype.field(i).type) for i in range(dtype.num_fields))


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return jsonable(value)


def table_rows(batches: Iterator[Any]) -> Iterator[RawRow]:
    """Rows of Arrow record batches. Columns of dates, times and timestamps become ISO 8601
    text, binary columns base64 text and decimals their exact text, as in JSONL output."""
    line = 0
    for batch in batches:
        convert = [f.name for f in batch.schema if _unsafe(f.type)]
        for row in batch.to_pylist():
            line += 1
            for name in convert:
                row[name] = _json_safe(row[name])
            yield RawRow(line, None, row)


def open_parquet(path: Path, max_line_bytes: int) -> Source:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"not a readable Parquet file ({exc})", path=path) from None
    if pf.metadata.num_rows == 0:
        raise DataError("the table has no rows", path=path, hint="write at least one record")
    return Source(path, str(path), "parquet", None, "row", pf.metadata.num_rows,
                  table_rows(pf.iter_batches(batch_size=4096)))


def open_hf(path: Path, max_line_bytes: int) -> Source:
    if not ((path / "dataset_info.json").exists() or (path / "state.json").exists()
            or (path / "dataset_dict.json").exists()):
        raise DataError("this directory is not a dataset saved with `save_to_disk`", path=path,
                        hint="point at a directory holding state.json / dataset_info.json")
    datasets = require("datasets", "train")
    ds = datasets.load_from_disk(str(path))
    notes = []
    if isinstance(ds, datasets.DatasetDict):
        splits = list(ds)
        if "train" not in ds and len(splits) != 1:
            raise DataError(f"the dataset has splits {splits} and none is 'train'", path=path,
                            hint=f"point at one split's directory, e.g. {path / splits[0]}")
        split = "train" if "train" in ds else splits[0]
        notes.append(f"read split '{split}' of {splits}")
        ds = ds[split]
    if len(ds) == 0:
        raise DataError("the dataset has no rows", path=path)
    table = ds.data.table if hasattr(ds.data, "table") else ds.data
    return Source(path, str(path), "hf", None, "row", len(ds), table_rows(iter(table.to_batches(4096))), notes)


def arrow_table(rows: list[dict[str, Any]]) -> Any:
    """Columns keep their types where they agree (message lists stay lists of structs);
    objects and columns of mixed types become JSON text, which the readers parse back."""
    import pyarrow as pa

    cols = columns_of(rows)
    arrays = []
    for c in cols:
        values = [row.get(c) for row in rows]
        if any(isinstance(v, dict) for v in values):
            values = [None if v is None else cell_text(v) for v in values]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array([None if v is None else (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for v in values]))
    return pa.Table.from_arrays(arrays, names=cols)


def write_parquet(path: Path, rows: list[dict[str, Any]], encoding: str) -> None:
    import pyarrow.parquet as pq

    table = arrow_table(rows)
    atomic(path, lambda tmp: pq.write_table(table, tmp))


def write_hf(path: Path, rows: list[dict[str, Any]], encoding: str) -> None:
    datasets = require("datasets", "train")
    ds = datasets.Dataset(arrow_table(rows))
    was_disabled = datasets.utils.are_progress_bars_disabled()
    datasets.utils.disable_progress_bars()  # a second bar (tqdm) for a few rows only adds noise
    try:
        ds.save_to_disk(str(path))
    finally:
        if not was_disabled:
            datasets.utils.enable_progress_bars()

