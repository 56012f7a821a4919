"""The microcontroller firmware (CircuitPython), also run under CPython against the emulated bus."""
