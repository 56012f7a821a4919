"""Register-level models of sensor chips, computing raw counts from the environment.

Each model inverts its chip's conversion (gain, integration time, datasheet formula as the Adafruit driver
applies it), adds count noise from a seeded generator, and can be told to misbehave (freeze, report an
impossible value) so every fault path of the drivers and the bridge can be exercised.
"""
