"""The building blocks of the settings: the strict base model and the constrained types of its keys."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# The shortest a sensor's interval may be: the fastest conversion of any chip vialguard reads, the LTR390's
# 12.5 ms at 13 bits (LTR-390UV-01 datasheet, MEAS_RATE); a sensor polled faster repeats its last value.
MIN_SENSOR_INTERVAL_SECONDS = 0.0125
# The shortest any other periodic setting may be (batch, commit, heartbeat, reconnect, checks): the tick the
# acquisition loop reads serial ports on (firmware_bridge/acquisition.py, SOURCE_POLL_SECONDS): a window
# shorter than the tick it is kept on cannot be kept.
MIN_INTERVAL_SECONDS = 0.02
Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
Seconds = Annotated[float, Field(gt=0)]
Interval = Annotated[float, Field(ge=MIN_INTERVAL_SECONDS)]
SensorInterval = Annotated[float, Field(ge=MIN_SENSOR_INTERVAL_SECONDS)]
# How a serial device names itself in its frames (firmware_bridge/frames.py): anything else never matches.
DeviceName = Annotated[str, Field(pattern=r"^[a-z0-9._-]{1,64}$")]
# Hour offsets of the world's time zones: UTC-12 (Baker Island) to UTC+14 (Line Islands).
UtcOffsetHours = Annotated[float, Field(ge=-12.0, le=14.0)]


class StrictModel(BaseModel):
    # allow_inf_nan: a NaN or an infinity is refused in every number of the file.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
