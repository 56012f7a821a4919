"""The fleet's real engines for the tests: a PostgreSQL cluster for the session (a fresh database per
test) and a Mosquitto broker per test, each on a free loopback port, stopped at the end."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.engines.mosquitto import PrivateMosquitto
from fleet.engines.postgres import PrivatePostgres
from tests.fleet.fleet_system import create_database, drop_database


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PrivatePostgres]:
    # Under /tmp, not pytest's tmp_path: its parents are private to the test user, and a root test run
    # runs the server as the unprivileged postgres user, who must reach the directory.
    directory = Path(tempfile.mkdtemp(prefix="vialguard-pg-"))
    server = PrivatePostgres(directory, durable=False)
    try:
        server.initialise()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def postgres(postgres_cluster: PrivatePostgres, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a new, empty database in the session's cluster (running, whatever the last test did)."""
    name = f"t_{abs(hash(request.node.nodeid)) % 10**12}"
    yield create_database(postgres_cluster, name)
    drop_database(postgres_cluster, name)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateMosquitto]:
    """A broker without persistence (Mosquitto's default) on a free port."""
    server = PrivateMosquitto(tmp_path / "mosquitto")
    server.start()
    try:
        yield server
    finally:
        server.stop()
