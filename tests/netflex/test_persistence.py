"""The DSO state journal: one flushed line per accepted state, torn lines ignored, compaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_components.grid_ems.netflex import DsoState, StateJournal, dump_state, load_state

FIRST = dump_state(DsoState(min_set_p=40.0))
SECOND = dump_state(DsoState(min_set_p=40.0, stop_production=True))


def test_each_state_is_one_line_and_the_last_one_is_restored(tmp_path: Path) -> None:
    path = tmp_path / "storage" / "journal.jsonl"
    journal = StateJournal(path)
    assert journal.load() is None
    journal.append(FIRST)
    journal.append(SECOND)
    assert len(path.read_text().splitlines()) == 2
    journal.close()
    restarted = StateJournal(path)
    stored = restarted.load()
    assert stored is not None
    assert load_state(stored) == DsoState(min_set_p=40.0, stop_production=True)
    assert len(path.read_text().splitlines()) == 1  # compacted on load


def test_a_line_cut_short_by_a_crash_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = StateJournal(path)
    journal.append(FIRST)
    journal.close()
    with path.open("a") as file:
        file.write('{"min_set_p": 1')  # never confirmed: the crash came first
    restarted = StateJournal(path)
    assert restarted.load() == FIRST
    restarted.append(SECOND)  # the torn line is gone, so the new one stands on its own
    assert StateJournal(path).load() == SECOND


def test_compaction_keeps_only_the_last_state(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = StateJournal(path, compact_after=3)
    for state in (FIRST, SECOND, FIRST):
        journal.append(state)
    assert len(path.read_text().splitlines()) == 1
    journal.append(SECOND)  # appends after the compaction go to the new file
    assert len(path.read_text().splitlines()) == 2
    assert not path.with_name("journal.jsonl.tmp").exists()
    assert StateJournal(path).load() == SECOND


def test_a_damaged_journal_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text("[1, 2]\n")
    with pytest.raises(ValueError, match="not an object"):
        StateJournal(path).load()
    path.write_text("garbage\n")
    with pytest.raises(ValueError, match="Expecting value"):
        StateJournal(path).load()


def test_a_journal_that_cannot_be_written_raises(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file where the folder should be")
    journal = StateJournal(tmp_path / "blocked" / "journal.jsonl")
    with pytest.raises(FileExistsError):
        journal.append(FIRST)


def test_remove(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = StateJournal(path)
    journal.append(FIRST)
    journal.remove()
    assert not path.exists()
    journal.remove()  # already gone
