"""vialguard's settings: one pydantic model, loaded from TOML, validated at start.

A bad file fails at once with a message naming the file, the key and the reason, e.g.
``site.toml: sensors[1].interval_seconds: Input should be greater than or equal to 0.0125``.
Every number must be finite (a NaN threshold compares false with everything: it switches its alarm off), and
the rules between keys hold (a low limit below the high one, a warning above the critical one, intervals no
shorter than the floors below). What needs the hardware or serial libraries (known drivers,
lamps, serial URLs, the API's address) is checked by ``vialguard/preflight.py`` before any process starts.
The default simulated configuration ships in the ``vialguard`` package (``vialguard/data/simulated.toml``).

One module per part of the file: :mod:`~monitor.config.site` (locations, sensors, vials),
:mod:`~monitor.config.alerting` (rules, alerts), :mod:`~monitor.config.simulation`,
:mod:`~monitor.config.services` (bridge, serial sources, API, webhooks), :mod:`~monitor.config.fleet` (the
uplink to central), on the strict base and key types of
:mod:`~monitor.config.fields`; :mod:`~monitor.config.settings` holds the whole and loads it.
"""

from monitor.config.alerting import AlertsConfig, RulesConfig
from monitor.config.fields import MIN_INTERVAL_SECONDS, MIN_SENSOR_INTERVAL_SECONDS
from monitor.config.services import ApiConfig, BridgeConfig, SerialSourceConfig, WebhookConfig
from monitor.config.settings import Settings, describe, load_settings, parse_settings
from monitor.config.simulation import ScenarioConfig, SimulationConfig
from monitor.config.site import CalibrationConfig, LocationConfig, SensorConfig, VialConfig

__all__ = [
    "MIN_INTERVAL_SECONDS",
    "MIN_SENSOR_INTERVAL_SECONDS",
    "AlertsConfig",
    "ApiConfig",
    "BridgeConfig",
    "CalibrationConfig",
    "LocationConfig",
    "RulesConfig",
    "ScenarioConfig",
    "SensorConfig",
    "SerialSourceConfig",
    "Settings",
    "SimulationConfig",
    "VialConfig",
    "WebhookConfig",
    "describe",
    "load_settings",
    "parse_settings",
]
