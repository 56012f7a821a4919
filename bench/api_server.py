"""The API under load: vialguard's app with a bare endpoint mounted beside it, on one uvicorn server.

``python -m bench.api_server --port P --db FILE`` seeds the simulated site, pushes ten minutes of a lit
fridge through the engine so the alert list has real rows, and serves. ``GET /bench/bare`` is the
baseline: the same server, the same event loop and HTTP stack, a handler that does nothing.
"""

from __future__ import annotations

import argparse
import tomllib
from importlib import resources
from pathlib import Path

from api.server import serve
from api.startup import sqlite_app
from monitor.alerts.rules import default_rules
from monitor.batch import Batch, LightReading
from monitor.config import Settings, parse_settings
from monitor.engine import Engine
from monitor.model.profiles import load_catalog
from monitor.site_sync import sync_site
from monitor.store import Database

T0 = 1_767_225_600.0


def seeded_settings(db: Path) -> Settings:
    text = resources.files("vialguard").joinpath("data/simulated.toml").read_text(encoding="utf-8")
    settings = parse_settings(tomllib.loads(text), "simulated.toml", {"db_path": db})
    database = Database(settings.db_path)
    database.initialise()
    conn = database.connect()
    sync_site(conn, settings, T0)
    engine = Engine(conn, load_catalog(), default_rules(settings.rules.thresholds()))
    light = [LightReading("fridge-1-lux", T0 + s, 800.0) for s in range(600)]
    engine.ingest(Batch(light=light), T0 + 600)
    conn.close()
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    app = sqlite_app(seeded_settings(args.db))

    @app.get("/bench/bare")
    async def bare() -> dict[str, bool]:
        return {"ok": True}

    serve(app, "127.0.0.1", args.port)  # as `vialguard api` serves it


if __name__ == "__main__":
    main()
