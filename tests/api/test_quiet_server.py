"""The tickless API server stops at once on SIGTERM, whichever of its threads the kernel hands it to."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.system_process import free_port

# A thread of the server's process takes SIGTERM itself (pthread_kill), as the kernel may choose a worker
# thread for a signal sent to the process: the main thread, asleep in the event loop, is not interrupted.
SCRIPT = textwrap.dedent(
    """
    import signal, sys, threading, time
    import uvicorn
    from fastapi import FastAPI
    from api.server import QuietServer

    config = uvicorn.Config(FastAPI(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
    server = QuietServer(config)

    def take_the_signal_here():
        while not server.started:
            time.sleep(0.05)
        time.sleep(0.5)  # the loop is asleep by now
        global sent
        sent = time.monotonic()
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    sent = None
    threading.Thread(target=take_the_signal_here, daemon=True).start()
    server.run()
    print(f"stopped {time.monotonic() - sent:.3f} s after the signal", flush=True)
    """
)


def test_sigterm_taken_by_another_thread_stops_the_server_at_once() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seconds = float(done.stdout.split()[1])
    assert seconds < 2.0, done.stdout  # not the minute of the safety tick
