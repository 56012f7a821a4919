"""A stop signal sets its event even when it lands while the main thread holds the event's own lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# The race made certain: the main thread takes the event's internal lock (as Event.wait() holds it between
# waking and returning), the signal arrives, and the handler runs right there in the main thread. A handler
# calling Event.set() itself would wait for that lock for ever; run in a child so that hang is a failure.
SCRIPT = textwrap.dedent(
    """
    import signal, threading
    from vialguard.signals import relay_signals

    stop = threading.Event()
    relay_signals({signal.SIGUSR2: stop})
    with stop._cond:
        signal.raise_signal(signal.SIGUSR2)
        for _ in range(1000):  # bytecodes: the handler runs among them, the lock still held
            pass
    print("stopped" if stop.wait(10) else "not stopped", flush=True)
    """
)


def test_a_signal_in_the_events_own_critical_section_still_sets_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped"
