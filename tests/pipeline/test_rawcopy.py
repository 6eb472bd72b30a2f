"""pipeline/rawcopy.py: a refused message is kept as a bounded prefix, its length and its SHA-256."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from pipeline.rawcopy import DETAIL_KEEP, KEEP_BYTES, bounded_copy, bounded_detail


@given(st.binary(max_size=3 * 1024), st.integers(min_value=1, max_value=2048))
def test_a_copy_is_a_prefix_with_the_whole_originals_length_and_hash(raw, keep):
    copy = bounded_copy(raw, keep)
    assert raw.startswith(copy.prefix) and len(copy.prefix) == min(keep, len(raw))
    assert copy.length == len(raw) and copy.sha256 == hashlib.sha256(raw).hexdigest()
    assert copy.truncated == (len(raw) > keep)


def test_a_message_the_contract_could_accept_is_kept_whole_a_larger_one_is_cut():
    whole = b"x" * (64 * 1024)
    assert bounded_copy(whole).prefix == whole and not bounded_copy(whole).truncated
    big = b'"' * (200 * 1024 * 1024 // 100)
    copy = bounded_copy(big)
    assert len(copy.prefix) == KEEP_BYTES and copy.truncated and copy.length == len(big)


def test_details_are_cut():
    assert bounded_detail(None) is None and bounded_detail("") is None
    assert bounded_detail("unknown field") == "unknown field"
    assert len(bounded_detail("k" * 10**6) or "") == DETAIL_KEEP
