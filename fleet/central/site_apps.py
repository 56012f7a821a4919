"""Every site's own API at central: ``/sites/{site}/...`` is the site's :func:`api.app.create_app` over
central's PostgreSQL copy of that site (:class:`fleet.central.site_store.SiteStore`), so a client pointed
at ``http://central/sites/ward-3/api/v1/vials`` gets the JSON the Pi gives.

**One application per site, made on its first request and kept** (the :data:`MAX_SITE_APPS` most
recently asked). The site's application reads what it answers with from its settings and its clock, not
from the request: the verdict thresholds (``[rules]``), the site's name, its locations, and "now" for a
verdict. At central these are the site's: its thresholds as it sent them (``site_settings``), and its
clock as central best knows it (central's, less the skew last measured,
:func:`fleet.central.fleet_view.site_clock`), and its alert limits (light and temperature, hold times) as
it sent them: the dashboard and the reports read those, so until the site has sent them (a site before
its migration 23) those views are a 501 saying so, never an answer with central's defaults. One
application whose store picked the site from the path would still have one settings object and one clock
for every site, so each site gets its own, rebuilt when the site's thresholds, limits or locations
change. What they share is cheap to share: central's catalog and
one small set of database connections (:class:`Connections`).

**Made by the composition root.** ``fleet`` does not import ``api``: the ``vialguard`` package gives
central the maker of a site's application (:class:`SiteApi`, :mod:`vialguard.central_sites`); without
it central serves its fleet routes alone.

**Tokens.** Every route but ``/healthz`` and the static pages needs a token, as at the site, and here the
tokens are central's operator tokens (``vialguard central-token create``): anonymous loopback reads are
off, since central serves many sites' records. A ``read`` token reads, ``admin`` reads the audit trail.

**Writes** refuse (:mod:`fleet.central.site_refusals`, 409), each naming what to do instead. Acknowledging
an alert and making or ending a silence name central's command route rather than becoming the command:
the site's route answers at once with the acknowledged alert (200), which a command the site applies
later cannot give, and it takes no ``Idempotency-Key``, so a retried request would make a second command.
The views central lacks the data for are a 501 saying why, as are the drug profiles of a site that adds
its own (the route answers from the catalog alone, here central's). The site's system checks do not run
here: they would write the site's alerts.

**Host names.** As at the site, a request whose ``Host`` is neither an IP address, a loopback name, this
machine's name nor one of ``allowed_hosts`` is refused (DNS rebinding); central passes its bind name and
``vialguard central --allowed-host``.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg import IsolationLevel
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from fleet.central import fleet_view, site_config
from fleet.central.fleet_view import SiteFacts
from fleet.central.site_store import Connection, SiteStore, translated
from hardware.clock import Clock
from monitor.config import Settings
from monitor.errors import StoreError
from monitor.model.profiles import Catalog
from monitor.model.verdict import Thresholds
from monitor.store.ports import Store, StorePool

CONNECT_TIMEOUT_SECONDS = 5
IDLE_CONNECTIONS = 8  # kept open between requests; more are opened under load and closed after
# A site's application takes about 0.6 MB and 0.3 s to build (measured on the 2-core test machine under
# load, tracemalloc over 50 builds): the most recently asked this many are kept, not all of a large fleet.
MAX_SITE_APPS = 64
PROFILES = "/api/v1/profiles"  # answered from the catalog alone (api.routes.profiles)


class Connections:
    """Read-only connections to central's database, lent to the sites' store sessions and taken back."""

    def __init__(self, database_url: str, keep: int = IDLE_CONNECTIONS) -> None:
        self.database_url = database_url
        self.keep = keep
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    def borrow(self) -> Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        with translated():
            conn = psycopg.connect(
                self.database_url, connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True
            )
        conn.isolation_level = IsolationLevel.REPEATABLE_READ  # a snapshot is one state of the database
        conn.read_only = True  # nothing the site's API does at central writes
        return conn

    def give_back(self, conn: Connection) -> None:
        # A connection the server dropped (a restart) is broken: closed here, a new one opened next time.
        idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        usable = not conn.closed and not conn.broken and idle
        with self._lock:
            if usable and len(self._idle) < self.keep:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def lent(self) -> Iterator[Connection]:
        conn = self.borrow()
        try:
            yield conn
        finally:
            self.give_back(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class SitePool:
    """The store pool of one site's application: sessions over the shared connections. ``lacks_limits``:
    why the application's settings do not hold the site's alert limits (None: they do)."""

    def __init__(self, connections: Connections, site: str, lacks_limits: str | None = None) -> None:
        self.connections = connections
        self.site = site
        self.lacks_limits = lacks_limits

    @contextmanager
    def session(self) -> Iterator[Store]:
        with self.connections.lent() as conn:
            yield SiteStore(conn, self.site, lacks_limits=self.lacks_limits)

    def close(self) -> None:
        """Nothing: the connections are central's, closed when central stops."""


class SiteClock:
    """The site's clock as central knows it: central's, corrected by the site's last measured skew."""

    def __init__(
        self, central: Callable[[], float], facts: SiteFacts, site_clock: Callable[[SiteFacts, float], float]
    ) -> None:
        self.central = central
        self.facts = facts  # replaced with the newest on each request
        self.site_clock = site_clock

    def wall(self) -> float:
        return self.site_clock(self.facts, self.central())

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(seconds)


@dataclass(frozen=True, slots=True)
class SiteShape:
    """What a site's application is built from; a change rebuilds it."""

    thresholds: Thresholds | None
    locations: tuple[tuple[str, str | None, float | None], ...]  # key, lamp, worst-case lux
    rule_limits: tuple[tuple[str, float], ...] | None  # None: the site has not sent them


class SiteApi(Protocol):
    """How a site's API is made: ``fleet`` does not import ``api``, so the composition root (the
    ``vialguard`` package, :mod:`vialguard.central_sites`) gives central this."""

    def app(self, settings: Settings, stores: StorePool, clock: Clock, catalog: Catalog) -> ASGIApp:
        """The site's application (:func:`api.app.create_app`) over ``stores``, without the system checks,
        evaluating with ``catalog``, answering the refusals (:mod:`fleet.central.site_refusals`) with
        their status."""
        ...

    def problem(
        self, status: int, error: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> ASGIApp:
        """An error answer in the API's shape (problem details)."""
        ...


@dataclass(slots=True)
class SiteApp:
    """A site's application as kept, and the facts of the site it was last asked with."""

    shape: SiteShape
    app: ASGIApp
    clock: SiteClock

    @property
    def facts(self) -> SiteFacts:
        return self.clock.facts


def _is_name(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(host)
    return False


NO_LIMITS = (
    "the site has not sent its light and temperature limits ([rules] light_lux, temperature_low_celsius"
    " ...) to central (it sends them from its migration 23, on its next start)"
)


@dataclass(frozen=True, slots=True)
class BuiltSettings:
    settings: Settings
    lacks_limits: str | None  # why ``settings`` does not hold the site's alert limits; None: it does


def site_settings(
    site: str, shape: SiteShape, names: Sequence[str], kinds: dict[str, tuple[str, str]]
) -> BuiltSettings:
    """The settings the site's application reads, from what central holds of the site: its thresholds
    and alert limits as it sent them (central's defaults only where the views reading them refuse)."""
    rules: dict[str, Any] = {}
    if shape.thresholds is not None:
        rules = {
            "potency_warning_percent": shape.thresholds.warning_percent,
            "potency_critical_percent": shape.thresholds.critical_percent,
        }
    locations = [
        {"key": key, "name": kinds[key][0], "kind": kinds[key][1], "lamp": lamp, "worst_case_lux": worst}
        for key, lamp, worst in shape.locations
    ] or [{"key": "none", "name": "no location received yet"}]
    document: dict[str, Any] = {
        "site_name": site,
        "locations": locations,
        "rules": rules,
        "api": {"anonymous_loopback_reads": False, "allowed_hosts": list(names)},
    }
    if shape.rule_limits is None:
        return BuiltSettings(Settings.model_validate(document), NO_LIMITS)
    try:
        return BuiltSettings(
            Settings.model_validate({**document, "rules": {**rules, **dict(shape.rule_limits)}}), None
        )
    except ValidationError as exc:  # a limit central's code does not know (a newer site), or refuses
        because = f"central cannot read the site's light and temperature limits: {exc.errors()[0]['msg']}"
        return BuiltSettings(Settings.model_validate(document), because)


class SiteApps:
    """The ASGI application under ``/sites/{site}``: hands each request to that site's application."""

    def __init__(
        self,
        database_url: str,
        site_api: SiteApi,
        catalog: Catalog,
        clock: Callable[[], float],
        allowed_hosts: Sequence[str] = (),
        site_clock: Callable[[SiteFacts, float], float] = fleet_view.site_clock,
        max_apps: int = MAX_SITE_APPS,
    ) -> None:
        self.connections = Connections(database_url)
        self.site_api = site_api
        self.max_apps = max_apps
        self.catalog = catalog
        self.clock = clock
        self.allowed_hosts = [h for h in allowed_hosts if _is_name(h)]
        self.site_clock = site_clock
        self._apps: OrderedDict[str, SiteApp] = OrderedDict()  # the least recently asked first
        self._lock = threading.Lock()

    def app_for(self, site: str) -> SiteApp | None:
        """The site's application, made or remade as the site now stands; None for a site never heard of.
        Blocking: run off the event loop."""
        with self.connections.lent() as conn, translated():
            facts = fleet_view.site_facts(conn).get(site)
            if facts is None:
                return None
            located = site_config.locations(conn, site)
            kinds = {
                str(k): (str(n), str(kind))
                for k, n, kind in conn.execute(
                    "SELECT key, name, kind FROM site_locations WHERE site = %s", (site,)
                ).fetchall()
            }
        shape = SiteShape(
            facts.thresholds,
            tuple((x.key, x.lamp, x.worst_case_lux) for x in located.values()),
            facts.rule_limits,
        )
        with self._lock:
            found = self._apps.get(site)
            if found is not None and found.shape == shape:
                found.clock.facts = facts
                self._apps.move_to_end(site)
                return found
        # Built outside the lock (a few hundred ms): other sites' requests go on meanwhile. Two requests
        # building the same site's at once both answer; the later one is kept.
        clock = SiteClock(self.clock, facts, self.site_clock)
        built = site_settings(site, shape, self.allowed_hosts, kinds)
        made = SiteApp(
            shape,
            self.site_api.app(
                built.settings,
                SitePool(self.connections, site, built.lacks_limits),
                clock,
                self.catalog,  # central's: the one the fleet's views use
            ),
            clock,
        )
        with self._lock:
            self._apps[site] = made
            self._apps.move_to_end(site)
            while len(self._apps) > self.max_apps:  # an evicted application holds no resource
                self._apps.popitem(last=False)
        return made

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        site = str(scope.get("path_params", {}).get("site", ""))
        problem = self.site_api.problem
        try:
            found = await run_in_threadpool(self.app_for, site)
        except StoreError as exc:
            await problem(503, "storage unavailable", str(exc), {"Retry-After": "5"})(scope, receive, send)
            return
        if found is None:
            detail = (
                f"no site named {site!r} has reported to central; GET /api/v1/sites lists those that have"
            )
            await problem(404, "not found", detail)(scope, receive, send)
            return
        facts = found.facts
        path = str(scope.get("path", ""))[len(str(scope.get("root_path", ""))) :]
        if facts.drug_profiles_sha256 is not None and path.rstrip("/") == PROFILES:
            # The route answers from the catalog alone, central's: never the site's own profiles.
            detail = (
                f"central cannot give the site's drug profiles for {site!r} because the site adds its own"
                f" drug profiles (sha256 {facts.drug_profiles_sha256[:12]}…), which central does not hold"
            )
            await problem(501, "not implemented", detail)(scope, receive, send)
            return
        await found.app(scope, receive, send)

    def close(self) -> None:
        self.connections.close()
