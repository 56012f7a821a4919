"""The start-up baseline: the smallest FastAPI app on uvicorn, answering one route.

``python -m bench.bare_server --port P``. Its time to first answer is what any Python service on this
stack pays before doing anything of its own.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/bench/bare")
async def bare() -> dict[str, bool]:
    return {"ok": True}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.bare_server")
    parser.add_argument("--port", type=int, required=True)
    uvicorn.run(app, host="127.0.0.1", port=parser.parse_args().port, log_level="warning")
