"""A Dask nanny's worker gets glibc's usual allocator thresholds back (the nanny's cost 1.55x in time)."""

import platform

import pytest

from qa_review.asr.allocator import restore_malloc_thresholds


def test_a_process_started_without_the_nannys_setting_is_left_alone():
    assert restore_malloc_thresholds({}) is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_a_nannys_worker_gets_the_thresholds_raised():
    assert restore_malloc_thresholds({"MALLOC_TRIM_THRESHOLD_": "65536"}) is True
