"""How the bridge learns that the clock is synchronised: timesyncd's flag file, else the kernel."""

from __future__ import annotations

from pathlib import Path

from hardware.timesync import KernelTimeSync, TimesyncdFlag, system_time_sync


def test_timesyncd_running_means_its_flag_file_is_asked(tmp_path: Path) -> None:
    """While timesyncd's directory exists, its flag file decides: absent until it has synchronised once."""
    flag = tmp_path / "timesync" / "synchronized"
    flag.parent.mkdir()
    sync = system_time_sync(flag)
    assert isinstance(sync, TimesyncdFlag)
    assert sync.synchronised() is False
    flag.touch()
    assert sync.synchronised() is True


def test_without_timesyncd_the_kernel_is_asked(tmp_path: Path) -> None:
    """No timesyncd directory (chrony, ntpd): adjtimex's read-only answer, never an error here."""
    sync = system_time_sync(tmp_path / "absent" / "synchronized")
    assert isinstance(sync, KernelTimeSync)
    assert sync.synchronised() in {True, False}
