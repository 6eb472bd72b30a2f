"""The worker's own offset bookkeeping (streams/offsets.py): what may be processed and committed."""

from __future__ import annotations

from faust.types import TP

from streams.offsets import ACCEPT, GAP, REPEAT, Offsets

A = TP("events.raw", 0)
B = TP("events.raw", 1)


def started(generation: int = 1, **starts) -> Offsets:
    offsets = Offsets()
    offsets.new_generation(generation)
    for tp, start in ((A, starts.get("a", 0)), (B, starts.get("b", 0))):
        offsets.start(tp, start)
    return offsets


def test_messages_are_accepted_in_offset_order_from_the_start():
    offsets = started(a=5)
    assert [offsets.accept(A, o) for o in (5, 6, 7)] == [ACCEPT] * 3
    assert offsets.next[A] == 8


def test_an_offset_seen_before_is_a_repeat_and_a_skipped_one_a_gap():
    offsets = started(a=5)
    assert offsets.accept(A, 4) == REPEAT
    assert offsets.accept(A, 7) == GAP
    assert offsets.next[A] == 5, "a gap does not move the expected offset"
    assert offsets.accept(A, 5) == ACCEPT


def test_accepting_the_expected_offset_ends_a_seek():
    offsets = started(a=3)
    offsets.seeking[A] = 3
    offsets.accept(A, 3)
    assert A not in offsets.seeking


def test_only_done_offsets_beyond_the_last_commit_of_assigned_partitions_are_committed():
    offsets = started(a=10, b=0)
    assert offsets.to_commit({A, B}) == {}
    offsets.complete(A, 12)
    offsets.complete(B, 3)
    assert offsets.to_commit({A, B}) == {A: 12, B: 3}
    assert offsets.to_commit({A}) == {A: 12}
    offsets.committed_now({A: 12})
    assert offsets.to_commit({A, B}) == {B: 3}


def test_completion_never_moves_backwards():
    offsets = started(a=0)
    offsets.complete(A, 9)
    offsets.complete(A, 4)
    assert offsets.done[A] == 9


def test_a_new_generation_forgets_everything_of_the_old_one():
    offsets = started(generation=1, a=0)
    offsets.accept(A, 0)
    offsets.complete(A, 1)
    assert offsets.new_generation(1) is False
    assert offsets.new_generation(2) is True
    assert not offsets.known(A)
    assert offsets.to_commit({A}) == {}
