"""Running under systemd, tested without systemd: the notify socket, journal priorities, the unit files.

The notify socket is a real datagram socket the test binds, the processes are real ``vialguard bridge``
and ``vialguard api`` subprocesses, and the unit files go through ``systemd-analyze verify``,
``systemd-sysusers`` and ``systemd-tmpfiles`` from Debian's systemd package when it is there.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.system_process import free_port
from tests.vialguard.test_logs import journal_pipe

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
WAIT_SECONDS = 60.0  # a deadline for a datagram that should come, never a measured speed


@contextmanager
def notify_socket(address: str) -> Iterator[socket.socket]:
    """A datagram socket bound where NOTIFY_SOCKET will point (``@name``: the abstract namespace)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + address[1:] if address.startswith("@") else address)
    sock.settimeout(WAIT_SECONDS)
    try:
        yield sock
    finally:
        sock.close()


def receive(sock: socket.socket, proc: subprocess.Popen[bytes], wanted: str, times: int = 1) -> list[str]:
    """Every assignment received until ``wanted`` has come ``times`` times, in order of arrival."""
    got: list[str] = []
    while got.count(wanted) < times:
        try:
            got += sock.recv(4096).decode().split("\n")
        except TimeoutError:
            pytest.fail(f"{wanted} not {times} times within {WAIT_SECONDS} s (exit {proc.poll()}): {got}")
    return got


def start(argv: list[str], env: dict[str, str], stderr: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "vialguard", *argv],
        stdout=stderr,
        stderr=stderr,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
    )


def stop(proc: subprocess.Popen[bytes], read_fd: int, *, signalled: bool) -> str:
    """SIGTERM unless it was sent already or it has ended, wait for a clean exit, and what the process
    wrote. Never a second SIGTERM: one that lands while the interpreter finalises (its handlers back to
    the default) kills a process that was stopping cleanly."""
    if not signalled and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=WAIT_SECONDS) == 0
    with os.fdopen(read_fd, "rb") as pipe:
        return pipe.read().decode()


def test_the_bridge_notifies_ready_pings_its_watchdog_and_logs_with_priorities(tmp_path: Path) -> None:
    """`vialguard bridge`: READY=1, repeated WATCHDOG=1 from its loop, STOPPING=1; `<N>` journal lines."""
    address = str(tmp_path / "notify")
    read_fd, write_fd, stream = journal_pipe()
    with notify_socket(address) as sock:
        env = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000", "JOURNAL_STREAM": stream}
        proc = start(["bridge", "--simulate", "--db", str(tmp_path / "v.db")], env, write_fd)
        os.close(write_fd)
        signalled = False
        try:
            receive(sock, proc, "READY=1")
            receive(sock, proc, "WATCHDOG=1", times=2)  # pings from the loop after READY, and they go on
            proc.send_signal(signal.SIGTERM)
            signalled = True
            receive(sock, proc, "STOPPING=1")
        finally:
            out = stop(proc, read_fd, signalled=signalled)
    lines = out.splitlines()
    assert "<6>firmware_bridge.service: bridge stopped cleanly" in lines
    assert all(line.startswith(("<6>", "<4>")) for line in lines), out  # no timestamps, no bare lines


def test_the_api_notifies_ready_and_pings_its_watchdog(tmp_path: Path) -> None:
    """`vialguard api` on an abstract-namespace socket: READY=1 once it listens, WATCHDOG=1 from its loop."""
    address = f"@vialguard-test-{os.getpid()}-{tmp_path.name}"
    read_fd, write_fd, _ = journal_pipe()
    port = free_port()
    argv = ["api", "--simulate", "--db", str(tmp_path / "v.db"), "--port", str(port)]
    with notify_socket(address) as sock:
        proc = start(argv, {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"}, write_fd)
        os.close(write_fd)
        signalled = False
        try:
            receive(sock, proc, "READY=1")
            with socket.create_connection(("127.0.0.1", port), timeout=WAIT_SECONDS):
                pass  # READY=1 came once the port listens
            receive(sock, proc, "WATCHDOG=1", times=2)
            proc.send_signal(signal.SIGTERM)
            signalled = True
            receive(sock, proc, "STOPPING=1")
        finally:
            stop(proc, read_fd, signalled=signalled)


UNITS = (
    "vialguard-bridge.service",
    "vialguard-api.service",
    "vialguard-webhooks.service",
    "vialguard-backup.service",
    "vialguard-backup.timer",
    "vialguard.target",
)


def systemd_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian's systemd package provides it)")
    return path


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """Every unit, timer and the target load cleanly (ExecStart pointed at this checkout's executable)."""
    analyze = systemd_tool("systemd-analyze")
    executable = Path(sys.executable).parent / "vialguard"
    for name in UNITS:
        text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
        # Wherever the install puts it (/opt/vialguard/venv/bin/vialguard today), ours stands in.
        (tmp_path / name).write_text(re.sub(r"/\S*/bin/vialguard\b", str(executable), text))
    done = subprocess.run(
        [analyze, "verify", *(f"./{name}" for name in UNITS)], cwd=tmp_path, capture_output=True, text=True
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_long_running_units_are_notify_units_with_a_watchdog() -> None:
    """The bridge and the API are Type=notify with WatchdogSec=, grouped by vialguard.target."""
    for name in ("vialguard-bridge.service", "vialguard-api.service"):
        lines = (DEPLOY / "systemd" / name).read_text(encoding="utf-8").splitlines()
        assert {
            "Type=notify",
            "NotifyAccess=main",
            "PartOf=vialguard.target",
            "WantedBy=vialguard.target",
        } <= set(lines)
        assert any(line.startswith("WatchdogSec=") for line in lines)


def test_a_configuration_error_is_not_restarted_for_ever() -> None:
    """Exit status 2 (bad settings, another bridge on the database) stops a unit instead of restarting it."""
    for name in ("vialguard-bridge.service", "vialguard-api.service", "vialguard-webhooks.service"):
        lines = (DEPLOY / "systemd" / name).read_text(encoding="utf-8").splitlines()
        assert "RestartPreventExitStatus=2" in lines, name


def test_sysusers_and_tmpfiles_create_the_user_and_directories(tmp_path: Path) -> None:
    """systemd-sysusers makes the user (in i2c, gpio, dialout); systemd-tmpfiles its directories, owned."""
    sysusers, tmpfiles = systemd_tool("systemd-sysusers"), systemd_tool("systemd-tmpfiles")
    (tmp_path / "etc").mkdir()
    root = f"--root={tmp_path}"
    subprocess.run(
        [sysusers, root, str(DEPLOY / "sysusers.d" / "vialguard.conf")], check=True, capture_output=True
    )
    passwd = (tmp_path / "etc" / "passwd").read_text(encoding="utf-8")
    (user,) = [line.split(":") for line in passwd.splitlines() if line.startswith("vialguard:")]
    assert user[5] == "/var/lib/vialguard"
    groups = {
        line.split(":")[0]: line.split(":")[3]
        for line in (tmp_path / "etc" / "group").read_text().splitlines()
    }
    assert {g for g, members in groups.items() if "vialguard" in members.split(",")} == {
        "i2c",
        "gpio",
        "dialout",
    }
    subprocess.run(
        [tmpfiles, root, "--create", str(DEPLOY / "tmpfiles.d" / "vialguard.conf")],
        check=True,
        capture_output=True,
    )
    uid = int(user[2])
    for directory, owner in (
        ("etc/vialguard", 0),
        ("var/lib/vialguard", uid),
        ("var/backups/vialguard", uid),
    ):
        st = (tmp_path / directory).stat()
        assert (st.st_uid, st.st_mode & 0o777) == (owner, 0o750), directory
