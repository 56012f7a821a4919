"""The new-epoch alert's rule on a real SQLite file: it ends only once a person has acknowledged it and
central holds the new epoch through the point it names; a later epoch supersedes it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.uplink import epoch_alert
from monitor.store import Database
from monitor.store import alerts as alert_store
from monitor.store import outbox as outbox_store
from monitor.store.database import transaction

NOW = 1_800_000_000.0


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    db = Database(tmp_path / "site.db")
    db.initialise()
    connection = db.connect()
    with transaction(connection):
        outbox_store.enable(connection, "ward-5")
    yield connection
    connection.close()


def draw(conn: sqlite3.Connection, reason: str, through_seq: int) -> tuple[str, int]:
    with transaction(conn):
        state = outbox_store.new_epoch(conn, reason)
        alert_id = epoch_alert.raise_alert(conn, state, through_seq, NOW)
    assert state.epoch is not None
    return state.epoch, alert_id


def test_central_catching_up_alone_does_not_end_it(conn: sqlite3.Connection) -> None:
    """Central holding the whole epoch leaves an unacknowledged alert open: a person has not read it."""
    epoch, alert_id = draw(conn, "restored from a backup", 40)
    assert epoch_alert.settle(conn, epoch, 1000, NOW + 5)
    assert alert_store.get(conn, alert_id).state == "firing"


def test_an_acknowledgement_ends_it_once_central_holds_the_point(conn: sqlite3.Connection) -> None:
    """Acknowledged but central short of the point: open; central at the point: resolved, saying both."""
    epoch, alert_id = draw(conn, "restored from a backup", 40)
    with transaction(conn):
        alert_store.acknowledge(conn, alert_id, "it", "restored the SD card's image", NOW + 1)
    assert epoch_alert.settle(conn, epoch, 39, NOW + 2)
    assert alert_store.get(conn, alert_id).state == "acknowledged"
    assert not epoch_alert.settle(conn, epoch, 40, NOW + 3)
    resolved = alert_store.get(conn, alert_id)
    assert resolved.state == "resolved"
    assert resolved.ended_ts == NOW + 3
    assert alert_store.events(conn, alert_id)[-1].detail == (
        f"acknowledged by it and central holds epoch {epoch} through 40"
    )


def test_another_epoch_supersedes_it(conn: sqlite3.Connection) -> None:
    """A second new epoch resolves the first one's alert and opens its own, naming the one it replaced."""
    first, first_id = draw(conn, "restored from a backup", 10)
    second, second_id = draw(conn, "their digest differs", 20)
    assert alert_store.get(conn, first_id).state == "resolved"
    assert alert_store.events(conn, first_id)[-1].detail == f"superseded by epoch {second}"
    now_open = alert_store.get(conn, second_id)
    assert now_open.state == "firing"
    assert f"new epoch {second} (replacing epoch {first})" in now_open.message
    assert "their digest differs" in now_open.message
    # The first epoch's point says nothing about the second's.
    with transaction(conn):
        alert_store.acknowledge(conn, second_id, "it", "seen", NOW + 1)
    assert epoch_alert.settle(conn, first, 1000, NOW + 2)
    assert not epoch_alert.settle(conn, second, 20, NOW + 3)


def test_nothing_open_is_nothing_to_settle(conn: sqlite3.Connection) -> None:
    """Without a new epoch there is no alert, and settling reports none open."""
    state = outbox_store.state(conn)
    assert state is not None
    assert state.epoch is not None
    assert not epoch_alert.settle(conn, state.epoch, 0, NOW)


def test_central_going_back_says_how_many_rows_it_lost(conn: sqlite3.Connection) -> None:
    """An epoch drawn because central lost rows it had acknowledged says so and how many, and ends as any
    new epoch's alert: acknowledged, and central holding the new epoch through its point."""
    with transaction(conn):
        state = outbox_store.new_epoch(conn, "central acknowledges epoch e through 3, behind the 8")
        alert_id = epoch_alert.raise_alert(conn, state, 12, NOW, lost_at_central=5)
    assert state.epoch is not None
    alert = alert_store.get(conn, alert_id)
    assert alert.message.startswith("central lost rows of this site it had committed")
    assert "5 rows central had acknowledged were deleted here" in alert.message
    assert alert.message.endswith("central holds this database's rows through number 12.")
    with transaction(conn):
        alert_store.acknowledge(conn, alert_id, "it", "central restored", NOW + 1)
    assert not epoch_alert.settle(conn, state.epoch, 12, NOW + 2)
