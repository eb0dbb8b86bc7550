"""Instruction data: read/write any file type and format, validate, convert, describe.

The everyday entry points are re-exported here; see `oshie.data.io`.
"""

from oshie.data.io import RecordResult, RecordStream, iter_records, load_records, write_records

__all__ = ["RecordResult", "RecordStream", "iter_records", "load_records", "write_records"]
