"""Request bodies larger than ``[api] max_request_bytes`` are refused with 413 before they are read whole.

The API's bodies are small JSON documents (an acknowledgement, a silence, a vial event); a limit keeps a
client that sends megabytes, by mistake or not, from filling a Pi's memory. A declared ``Content-Length``
over the limit is refused at once; a body sent in chunks is counted as it arrives.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import MEDIA_TYPE, problem_bytes

# A client sends its whole body before it reads the answer: a 413 sent while it is still sending meets a
# closed connection on its side instead. Up to this much of a refused body is read and dropped first, so
# the client hears why; past it the connection is dropped without reading more.
DRAIN_BYTES = 4 * 1024 * 1024


async def _drain(receive: Receive) -> None:
    drained = 0
    while drained <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope["headers"]:
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await _drain(receive)
                    await self._refuse(send)
                    return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    if message.get("more_body", False):
                        await _drain(receive)
                    # Raised where the route reads its body; the app's handler answers it like any 413.
                    raise HTTPException(413, f"request body over the limit of {self.max_bytes} bytes")
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, send: Send) -> None:
        body = problem_bytes(
            413, "request too large", f"request body over the limit of {self.max_bytes} bytes"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
