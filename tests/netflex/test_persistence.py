"""The DSO state journal: one flushed line per accepted state, torn lines ignored, compaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from custom_components.grid_ems.netflex import DsoState, StateJournal, dump_state, load_state
from custom_components.grid_ems.netflex.persistence import JOURNAL_SIZE

FIRST = dump_state(DsoState(min_set_p=40.0))
SECOND = dump_state(DsoState(min_set_p=40.0, stop_production=True))


def test_each_state_is_one_line_and_the_last_one_is_restored(tmp_path: Path) -> None:
    path = tmp_path / "storage" / "journal.jsonl"
    journal = StateJournal(path)
    assert journal.load() is None
    journal.append(FIRST)
    journal.append(SECOND)
    assert path.read_bytes().rstrip(b"\0").decode().splitlines() == [
        json.dumps(FIRST, separators=(",", ":")),
        json.dumps(SECOND, separators=(",", ":")),
    ]
    assert path.stat().st_size == JOURNAL_SIZE  # written out beforehand: no size changes
    journal.close()
    restarted = StateJournal(path)
    stored = restarted.load()
    assert stored is not None
    assert load_state(stored) == DsoState(min_set_p=40.0, stop_production=True)
    assert _lines(path) == 1  # compacted on load


def test_a_line_cut_short_by_a_crash_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = StateJournal(path)
    journal.append(FIRST)
    journal.close()
    end = len(_line(FIRST))
    with path.open("r+b") as file:
        file.seek(end)
        file.write(b'{"min_set_p": 1')  # never confirmed: the crash came first
    restarted = StateJournal(path)
    assert restarted.load() == FIRST
    restarted.append(SECOND)  # the torn line is gone, so the new one stands on its own
    assert StateJournal(path).load() == SECOND


def test_a_full_journal_is_compacted_to_the_last_state(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = StateJournal(path, size=len(_line(FIRST)) + len(_line(SECOND)) + 1)
    for state in (FIRST, SECOND):
        journal.append(state)
    assert _lines(path) == 2
    journal.append(FIRST)  # does not fit any more
    assert _lines(path) == 1
    journal.append(SECOND)  # appends after the compaction go to the new file
    assert _lines(path) == 2
    assert not path.with_name("journal.jsonl.tmp").exists()
    assert StateJournal(path).load() == SECOND


def _line(data: Mapping[str, object]) -> bytes:
    return (json.dumps(data, separators=(",", ":")) + "\n").encode()


def _lines(path: Path) -> int:
    return len(path.read_bytes().rstrip(b"\0").splitlines())


def test_a_damaged_journal_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text("[1, 2]\n")
    with pytest.raises(ValueError, match="not an object"):
        StateJournal(path).load()
    path.write_text("garbage\n")
    with pytest.raises(ValueError, match="Expecting value"):
        StateJournal(path).load()


def test_a_journal_with_only_a_torn_line_holds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"min_set_p": 1' + bytes(100))
    assert StateJournal(path).load() is None


def test_a_journal_that_cannot_be_replaced_raises(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    (path / "in the way").mkdir(parents=True)
    with pytest.raises(IsADirectoryError):
        StateJournal(path).append(FIRST)


def test_a_journal_that_cannot_be_written_raises(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file where the folder should be")
    journal = StateJournal(tmp_path / "blocked" / "journal.jsonl")
    with pytest.raises(FileExistsError):
        journal.append(FIRST)
    (tmp_path / "blocked").unlink()
    journal.append(FIRST)  # once the folder can be made, it works


def test_remove(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = StateJournal(path)
    journal.append(FIRST)
    journal.remove()
    assert not path.exists()
    journal.remove()  # already gone
