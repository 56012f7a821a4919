"""18: the site's configuration in the uplink's outbox (:mod:`monitor.store.config_mirror`): locations,
sensors, vials and the bridge's report lag, queued as upserts by triggers in the transactions that change
them, so central can run the potency model on its own copy; a database already uplinking queues each as
it stands.
"""

from __future__ import annotations

from monitor.store.config_mirror import MIGRATION as SQL

__all__ = ["SQL"]
