"""GET /api/v1/serial-devices over a real server: the boots the bridge recorded, newest per device."""

from __future__ import annotations

from monitor.store import serial_links
from monitor.store.serial_links import BootRecord
from tests.api.conftest import Served


def test_lists_each_device_once_with_its_latest_boot_and_age(served: Served) -> None:
    """Two boots of one board and one of another: one entry each, the latest boot's numbers, its age."""
    now = served.clock.wall()
    conn = served.database.connect()
    with conn:
        serial_links.record(
            conn,
            [],
            [
                BootRecord("e6614103e7", "00000001", now - 9000.0, 4000, "0.1.0", now - 600.0),
                BootRecord("e6614103e7", "00000002", now - 500.0, 450, "0.1.1", now - 30.0),
                BootRecord("f1e2d3c4b5", "0a1b2c3d", now - 100.0, 12, "0.1.0", now - 2.0),
            ],
        )
    conn.close()
    got = served.client.get("/api/v1/serial-devices").json()
    assert got == [
        {
            "device_id": "e6614103e7",
            "boot_id": "00000002",
            "firmware_version": "0.1.1",
            "last_seen_ts": now - 30.0,
            "last_seen_age_seconds": 30.0,
            "frames_acknowledged": 450,
            "boots": 2,
        },
        {
            "device_id": "f1e2d3c4b5",
            "boot_id": "0a1b2c3d",
            "firmware_version": "0.1.0",
            "last_seen_ts": now - 2.0,
            "last_seen_age_seconds": 2.0,
            "frames_acknowledged": 12,
            "boots": 1,
        },
    ]


def test_no_device_heard_is_an_empty_list(served: Served) -> None:
    """A site without a microcontroller answers an empty list, not an error."""
    assert served.client.get("/api/v1/serial-devices").json() == []
