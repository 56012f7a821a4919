"""`vialguard run` with [[webhooks]] starts the deliverer: a real receiver hears of the door left open,
signed and authenticated with the secrets file's entries."""

from __future__ import annotations

import base64
import json
import signal
import time
from importlib import resources
from pathlib import Path

import pytest

from tests.system_process import free_port, start_system
from tests.vialguard.test_webhooks import SECRET, Receiver, receiving

SCENARIO = ("--scenario", "door-left-open@10m+2h")


@pytest.mark.slow
def test_run_delivers_alert_changes_to_a_configured_receiver(tmp_path: Path) -> None:
    """The supervisor starts a third process that posts the light alert to the receiver."""
    hook_port, api_port = free_port(), free_port()
    shipped = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    config = tmp_path / "site.toml"
    url = f"http://127.0.0.1:{hook_port}/hook"
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        f'[webhooks."{url}"]\nsigning_secret = "{SECRET}"\nusername = "vg"\npassword = "pw"\n',
        encoding="utf-8",
    )
    secrets.chmod(0o600)
    config.write_text(
        f'secrets_file = "secrets.toml"\n{shipped}\n[[webhooks]]\nurl = "{url}"\n', encoding="utf-8"
    )
    # signed (at real time, though the simulation runs at 600x) and with Basic auth, or refused
    receiver = Receiver(secret=SECRET, authorization="Basic " + base64.b64encode(b"vg:pw").decode())
    with receiving(hook_port, receiver):
        proc = start_system(tmp_path / "v.db", api_port, "--config", str(config), *SCENARIO)
        try:
            deadline = time.monotonic() + 60
            kinds: set[tuple[str, str]] = set()
            while ("light-exposure", "fired") not in kinds:
                assert time.monotonic() < deadline, f"no light alert delivered; got {sorted(kinds)}"
                assert proc.poll() is None, "vialguard run exited early"
                time.sleep(0.2)  # a real process on a real clock: nothing here to drive time
                messages = [json.loads(body) for _, body in list(receiver.received)]
                kinds = {(m["alert"]["rule"], m["event"]["kind"]) for m in messages}
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out.decode()
    assert receiver.refused == []
    assert "started webhooks" in out.decode()
    # `vialguard run` says how to get a token for the same settings and database
    assert f"vialguard token create --config {config} --db {tmp_path / 'v.db'} --scope write" in out.decode()
    seqs = [json.loads(body)["seq"] for _, body in receiver.received]
    assert seqs == sorted(set(seqs))  # in order, none twice
