"""`vialguard vials hand-over` and `vials receive` between two sites' databases, in real subprocesses."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from tests.vialguard.test_vials_cli import seed, vg

WARD_SITE = """
site_name = "site-b"

[[locations]]
key = "ward"
name = "Ward 3"
kind = "room"
worst_case_lux = 500.0
"""


def _sites(tmp_path: Path) -> tuple[list[str], list[str]]:
    """The shipped simulated site as site-a (a worst case of 10 lx), and a ward as site-b, each with its
    own database, seeded as a running system leaves it."""
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    text = text.replace('site_name = "Simulated pharmacy"', 'site_name = "site-a"', 1)
    text = text.replace('kind = "fridge"\n', 'kind = "fridge"\nworst_case_lux = 10.0\n', 1)
    (tmp_path / "a.toml").write_text(text, encoding="utf-8")
    (tmp_path / "b.toml").write_text(WARD_SITE, encoding="utf-8")
    a = ["--config", str(tmp_path / "a.toml"), "--db", str(tmp_path / "a.db")]
    b = ["--config", str(tmp_path / "b.toml"), "--db", str(tmp_path / "b.db")]
    seed(*a)
    seed(*b)
    return a, b


def _row(site: list[str], key: str) -> dict[str, object]:
    listed = vg("vials", "list", "--json", *site)
    assert listed.returncode == 0, listed.stderr
    found: dict[str, object] = next(r for r in json.loads(listed.stdout) if r["key"] == key)
    return found


def test_hand_over_to_a_file_and_receive_it_at_the_other_site(tmp_path: Path) -> None:
    """A reconstituted vial handed over with its document in a file: received at the ward, it shows the
    site it came from, the same best and high potency (the low bound widened by the ward's worst case
    since) and the same label deadline; the sending site lists it handed over."""
    a, b = _sites(tmp_path)
    done = vg("vials", "event", "roze-0002", "reconstituted", *a)
    assert done.returncode == 0, done.stderr
    deadline = _row(a, "roze-0002")["verdict"]["label_deadline_ts"]  # type: ignore[index]
    assert deadline is not None
    document = tmp_path / "roze-0002.json"
    sent = vg("vials", "hand-over", "roze-0002", "--to", "site-b", "--out", str(document), *a)
    assert sent.returncode == 0, sent.stderr
    assert "roze-0002: handed over to site-b" in sent.stdout
    before = _row(a, "roze-0002")
    assert (before["status"], before["handed_over_to"]) == ("handed-over", "site-b")
    got = vg("vials", "receive", str(document), "--location", "ward", "--json", *b)
    assert got.returncode == 0, got.stderr
    received = json.loads(got.stdout)
    assert received["repeated"] is False
    row = received["vial"]
    assert (row["received_from"], row["location"], row["status"]) == ("site-a", "ward", "active")
    carried = json.loads(document.read_text(encoding="utf-8"))
    p = carried["potency_percent"]
    got_p = row["potency_percent"]
    assert (got_p["best"], got_p["high"]) == (round(p["best"], 3), round(p["high"], 3))
    # The ward has no light sensor: the seconds since the hand-over count at its worst case.
    assert got_p["low"] <= round(p["low"], 3)
    assert row["verdict"]["limited_by"] == "label"
    assert row["verdict"]["label_deadline_ts"] == deadline
    again = vg("vials", "receive", str(document), "--location", "ward", *b)
    assert again.returncode == 0, again.stderr
    assert "received before: nothing changed" in again.stdout


def test_a_corrupted_document_is_refused(tmp_path: Path) -> None:
    """A document whose potency was edited fails its checksum: refused with the reason, nothing added."""
    a, b = _sites(tmp_path)
    sent = vg("vials", "hand-over", "roze-0001", "--to", "site-b", *a)
    assert sent.returncode == 0, sent.stderr
    carried = json.loads(sent.stdout)
    carried["potency_percent"]["low"] = 99.9
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(carried), encoding="utf-8")
    got = vg("vials", "receive", str(bad), "--location", "ward", *b)
    assert got.returncode != 0
    assert "checksum does not match" in got.stderr
    listed = vg("vials", "list", "--json", *b)
    assert json.loads(listed.stdout) == []
