"""Undo the memory-allocator setting a Dask nanny gives its worker process.

A nanny starts each worker with ``MALLOC_TRIM_THRESHOLD_=65536`` so that
numpy-heavy tasks hand memory back to the system. With glibc that setting
also fixes the mmap threshold at 128 KiB, so every buffer the recognizer
allocates above that is a fresh mmap and page faults: measured on the demo
calls, transcription took 1.55 times as long (16.2 s against 10.4 s) for
100 MiB less peak memory. A worker that transcribes keeps glibc's usual
ceilings instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's own dynamic ceiling on 64-bit
TRIM_THRESHOLD = 64 << 20  # twice that, as glibc's dynamic rule keeps it


def restore_malloc_thresholds(environ=os.environ) -> bool:
    """If this process was started with a trim threshold (a nanny's worker), raise glibc's thresholds.

    Returns whether anything was changed; False off glibc or without the setting.
    """
    if "MALLOC_TRIM_THRESHOLD_" not in environ:
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (musl, macOS): nothing to undo
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
