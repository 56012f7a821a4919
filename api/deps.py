"""What handlers receive: a store session of their own, the catalog and the clock."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from api.changes import ChangeWatcher
from hardware.clock import Clock
from monitor.config import Settings
from monitor.model.profiles import Catalog
from monitor.store.ports import Store, StorePool
from monitor.tokens import ExpiryClock


@dataclass
class AppState:
    settings: Settings
    stores: StorePool
    catalog: Catalog
    clock: Clock
    watcher: ChangeWatcher = field(init=False)
    # Real time for token expiry: never earlier than a time seen, here or by another process (persisted).
    expiry_clock: ExpiryClock = field(default_factory=ExpiryClock)

    def __post_init__(self) -> None:
        self.watcher = ChangeWatcher(self._latest_seq)

    def _latest_seq(self) -> int:
        with self.session() as store:
            return store.latest_alert_seq()

    def expiry_now(self) -> float:
        """Now, for token expiry: the real wall clock, carried forward over any step back."""
        return self.expiry_clock.now(time.time(), time.monotonic())

    def session(self) -> AbstractContextManager[Store]:
        """A store session no other request holds until the block ends (see :class:`StorePool`)."""
        return self.stores.session()

    def close(self) -> None:
        self.stores.close()


async def _state(request: Request) -> AppState:
    # ``async`` because a plain ``def`` dependency costs every request a hop through the thread pool.
    state: AppState = request.app.state.vialguard
    return state


async def _store(state: Annotated[AppState, Depends(_state)]) -> AsyncIterator[Store]:
    # ``async`` so the checkout costs no hop through the thread pool; it never blocks but on the first
    # requests, which open the connections.
    with state.session() as store:
        yield store


State = Annotated[AppState, Depends(_state)]
StoreDep = Annotated[Store, Depends(_store)]
