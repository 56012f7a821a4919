"""GET /api/v1/serial-devices and /serial-rejects over a real server: what the bridge recorded."""

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


def test_refused_serial_input_is_listed_and_exported_per_port_and_kind(served: Served) -> None:
    """Counts the bridge committed in two batches: summed per port and kind, in the API and in /metrics."""
    now = served.clock.wall()
    port = "/dev/serial/by-id/usb-Raspberry_Pi_Pico_E6614103E7-if00"
    conn = served.database.connect()
    with conn:
        serial_links.add_rejects(conn, {(port, "noise"): 4, (port, "checksum"): 1}, now - 60.0)
        serial_links.add_rejects(conn, {(port, "noise"): 2}, now)
    conn.close()
    got = served.client.get("/api/v1/serial-rejects").json()
    assert got == [
        {"port": port, "kind": "checksum", "count": 1, "first_ts": now - 60.0, "last_ts": now - 60.0},
        {"port": port, "kind": "noise", "count": 6, "first_ts": now - 60.0, "last_ts": now},
    ]
    metrics = served.client.get("/metrics").text
    assert f'vialguard_serial_input_rejected_total{{kind="noise",port="{port}"}} 6.0' in metrics
