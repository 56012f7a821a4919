"""`vialguard token`: printed once, usable at once, never shown again; console changes are audited."""

from __future__ import annotations

import time

import pytest

from monitor.config import Settings
from monitor.store import Database
from monitor.store import audit as audit_store
from monitor.store import tokens as token_store
from monitor.tokens import token_id_of
from vialguard.cli import main


def test_create_prints_a_token_once_and_list_never_shows_it(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """create prints a working token on stdout alone; list shows its public id only; revoke ends it."""
    db = ["--simulate", "--db", str(settings.db_path)]
    assert main(["token", "create", *db, "--scope", "write", "--name", "nurse-station"]) == 0
    out = capsys.readouterr()
    text = out.out.strip()
    assert token_id_of(text) is not None
    assert text not in out.err
    conn = Database(settings.db_path).connect()
    record = token_store.authenticate(conn, text, time.time())
    assert record is not None
    assert (record.name, record.scope) == ("nurse-station", "write")

    assert main(["token", "list", *db]) == 0
    listed = capsys.readouterr().out
    assert f"vg_{record.token_id}_…" in listed
    assert text not in listed

    assert main(["token", "create", *db, "--scope", "read", "--name", "nurse-station"]) == 2
    assert "a token named 'nurse-station' is not revoked" in capsys.readouterr().err
    assert main(["token", "revoke", *db, "--name", "nurse-station"]) == 0
    assert token_store.authenticate(conn, text, time.time()) is None
    assert main(["token", "revoke", *db, "--name", "nurse-station"]) == 2
    assert "no unrevoked token named 'nurse-station'" in capsys.readouterr().err

    rows = audit_store.entries(conn)
    assert [(r.action, r.subject, r.actor.startswith("console:")) for r in rows] == [
        ("token.created", "token:nurse-station", True),
        ("token.revoked", "token:nurse-station", True),
    ]
    assert text not in " ".join(r.detail for r in rows)
    conn.close()


def test_a_token_with_an_expiry_is_refused_after_it_and_listed_as_expired(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """--expires-in 1h: valid now, refused an hour later (real time), listed with its expiry and state."""
    db = ["--simulate", "--db", str(settings.db_path)]
    assert (
        main(["token", "create", *db, "--scope", "read", "--name", "contractor", "--expires-in", "1h"]) == 0
    )
    text = capsys.readouterr().out.strip()
    conn = Database(settings.db_path).connect()
    now = time.time()
    assert token_store.authenticate(conn, text, now) is not None
    assert token_store.authenticate(conn, text, now + 3601.0) is None
    (record,) = token_store.list_all(conn)
    assert record.expires_ts == pytest.approx(now + 3600.0, abs=5.0)
    assert (record.state(now), record.state(now + 3601.0)) == ("live", "expired")
    conn.close()
    assert main(["token", "list", *db]) == 0
    assert "live  expires " in capsys.readouterr().out
    for bad in ("0", "soon", "11000d"):
        with pytest.raises(SystemExit):
            main(["token", "create", *db, "--scope", "read", "--name", "x", "--expires-in", bad])
        assert "--expires-in" in capsys.readouterr().err


def test_create_refuses_an_unknown_scope(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """--scope outside read, write, admin is a usage error naming the choices."""
    with pytest.raises(SystemExit):
        main(
            ["token", "create", "--simulate", "--db", str(settings.db_path), "--scope", "root", "--name", "x"]
        )
    assert "invalid choice: 'root'" in capsys.readouterr().err


def test_a_vial_event_at_the_console_is_audited(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vialguard vials event` appends a row naming the console user, and the chain stays intact."""
    db = ["--simulate", "--db", str(settings.db_path)]
    assert main(["vials", "event", *db, "roze-0002", "packaging-changed", "--packaging", "syringe"]) == 0
    conn = Database(settings.db_path).connect()
    rows = audit_store.entries(conn)
    assert [(r.action, r.subject) for r in rows] == [("vial.packaging-changed", "vial:roze-0002")]
    assert rows[0].actor.startswith("console:")
    assert '"packaging":"syringe"' in rows[0].detail
    assert audit_store.check(conn).intact
    conn.close()
