"""The ASGI layers around every request: a body size limit, security headers, an access log.

They are plain ASGI middleware (no per-request objects beyond what they need), so they
cost microseconds. The access log holds the method, the path without its query
string, the status and the time taken: never a body, a query string or a header.
"""

from __future__ import annotations

import json
import logging
import time

ACCESS_LOG = logging.getLogger("triage.serve.access")

# Only this server's own files: no inline script or style, nothing from elsewhere,
# never framed. connect-src 'self' lets the page's script call the API.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    # Answers are health data: no cache along the way may keep a copy.
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """Add :data:`SECURITY_HEADERS` to every response (headers the app set itself win)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse a request body over ``max_body`` bytes with 413, before the app reads any of it.

    A declared Content-Length over the limit is refused at once; a body sent in chunks
    is read up to the limit and refused as soon as it goes over. The body read here is
    handed on to the app unchanged.
    """

    def __init__(self, app, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return await _refuse(send, 400, "the Content-Length header is not a number")
                if declared > self.max_body:
                    return await self._too_large(send)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return await self._too_large(send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as a server would

        await self.app(scope, replay, send)

    async def _too_large(self, send):
        await _refuse(send, 413, f"the request body is over the limit of {self.max_body} bytes")


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message, "problems": [{"field": None, "message": message}]}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class AccessLog:
    """Log ``METHOD /path STATUS ms`` per request: no query string, body or header."""

    def __init__(self, app, logger: logging.Logger = ACCESS_LOG):
        self.app = app
        self.logger = logger

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500  # if the app fails before it starts a response

        async def recording_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            self.logger.info("%s %s %d %.1fms", scope["method"], scope["path"], status, elapsed)
