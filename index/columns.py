"""Big arrays on disk: raw files written row by row and memory-mapped when read.

A column is a flat file of fixed-size rows (a dtype and a row shape). Its writer appends and
hashes as it goes, so a build never holds a whole column in memory and never reads it back to
checksum it; its description (dtype, shape, bytes, SHA-256) goes into the build's manifest, and
a reader maps the file with that shape after checking only its size.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
from pathlib import Path

import numpy as np

_BUFFER = 1 << 20


class ColumnWriter:
    """Appends rows of ``dtype`` and ``row_shape`` to ``path``."""

    def __init__(self, path: Path, dtype: str, row_shape: tuple[int, ...] = ()) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self.row_shape = tuple(row_shape)
        self.rows = 0
        self._hash = hashlib.sha256()
        self._handle = path.open("wb", buffering=_BUFFER)

    def append(self, rows: np.ndarray) -> tuple[int, int]:
        """Append ``rows``; return the (start, end) row numbers they occupy."""
        array = np.ascontiguousarray(rows, dtype=self.dtype)
        if array.shape[1:] != self.row_shape:
            raise ValueError(f"rows of shape {array.shape[1:]} for a column of {self.row_shape}")
        data = array.tobytes()
        self._handle.write(data)
        self._hash.update(data)
        start = self.rows
        self.rows += len(array)
        return start, self.rows

    def close(self) -> dict:
        """Flush to disk; return the column's description for the manifest."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        return {
            "dtype": self.dtype.str,
            "shape": [self.rows, *self.row_shape],
            "bytes": self.rows * self.dtype.itemsize * int(np.prod(self.row_shape, dtype=int)),
            "sha256": self._hash.hexdigest(),
        }

    def abandon(self) -> None:
        """Close without caring whether the data reached the disk (the build is failing)."""
        with contextlib.suppress(OSError):
            self._handle.close()


def write_column(path: Path, array: np.ndarray) -> dict:
    """Write a whole (small) array as a column; return its description."""
    writer = ColumnWriter(path, array.dtype.str, tuple(array.shape[1:]))
    try:
        writer.append(array)
    except BaseException:
        writer.abandon()
        raise
    return writer.close()


def open_column(path: Path, spec: dict) -> np.ndarray:
    """Map the column at ``path`` read-only, with the shape ``spec`` gives.

    Raises ``ValueError`` when the file's size does not match the description.
    """
    dtype = np.dtype(spec["dtype"])
    shape = tuple(int(n) for n in spec["shape"])
    size = path.stat().st_size
    expected = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if size != expected:
        raise ValueError(f"{path.name} holds {size} bytes, the manifest says {expected}")
    if expected == 0:
        return np.zeros(shape, dtype=dtype)  # an empty file cannot be mapped
    mapping = np.memmap(path, dtype=dtype, mode="r", shape=shape)
    # A question reads a few rows of a column at random, and a fault on a mapping otherwise
    # reads around it as far as the device's read-ahead (8 MB on this machine's disk): at 1M
    # passages, megabytes read for each candidate's few kilobytes (docs/benchmarks.md).
    advise(mapping, mmap.MADV_RANDOM)
    return mapping


def advise(array: np.ndarray, advice: int) -> None:
    """Give the kernel ``advice`` (an ``mmap.MADV_*`` value) about the mapping under
    ``array`` (a column from ``open_column`` or a view of one); nothing for other arrays.

    A step that reads a whole column in order (a build copying kept rows) advises
    ``MADV_SEQUENTIAL`` first, so the disk is read ahead again."""
    mapped = _mapping_under(array)
    if mapped is not None:
        mapped.madvise(advice)


def _mapping_under(array: object) -> mmap.mmap | None:
    while array is not None and not isinstance(array, mmap.mmap):
        array = getattr(array, "_mmap", None) or getattr(array, "base", None)
    return array


def file_digest(path: Path) -> dict:
    """Size and SHA-256 of a file written by a library (FAISS, bm25s), for the manifest."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_BUFFER), b""):
            digest.update(chunk)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


class RowFileWriter:
    """Writes rows of a fixed-size float32 matrix in any order into a preallocated file.

    The space is reserved up front, so a full disk fails at once rather than part-way, and the
    file is written with ``pwrite`` (a full disk under a writable mapping would crash).
    """

    def __init__(self, path: Path, rows: int, width: int) -> None:
        self.path = path
        self.shape = (rows, width)
        self._row_bytes = width * 4
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        if rows:
            try:
                os.posix_fallocate(self._fd, 0, rows * self._row_bytes)
            except BaseException:
                os.close(self._fd)
                raise

    def write(self, row: int, vector: np.ndarray) -> None:
        """Write ``vector`` (float32, ``width`` values) as row ``row``."""
        data = np.ascontiguousarray(vector, dtype="<f4").tobytes()
        if len(data) != self._row_bytes:
            raise ValueError(f"a row of {len(data)} bytes for rows of {self._row_bytes}")
        os.pwrite(self._fd, data, row * self._row_bytes)

    def close(self) -> dict:
        """Flush to disk; return the column's description (its checksum read back once)."""
        os.fsync(self._fd)
        os.close(self._fd)
        return {"dtype": "<f4", "shape": list(self.shape), **file_digest(self.path)}

    def abandon(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


def run_rows(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The rows ``start..end-1`` of each run (``starts[i]``, ``ends[i]``), one run after
    another: the rows of a column that a few passages' spans cover, to read them with one
    indexing instead of a slice per passage."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(ends, dtype=np.int64) - starts
    # Each run's first row, minus where it lands in the output, repeated over the run.
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return shift + np.arange(int(lengths.sum()))
