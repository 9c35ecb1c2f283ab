"""Request parsing and response building shared by the route modules."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.emulator.errors import ApiError


@dataclass
class UploadedFile:
    index: int
    filename: str
    data: bytes
    content_type: str | None


@dataclass
class Body:
    json: dict[str, Any] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)


BODY_KEY: web.RequestKey[Body] = web.RequestKey("emu_body", Body)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with exactly `Content-Type: application/json` (discord.py checks it literally)."""
    resp = web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def no_content() -> web.Response:
    return web.Response(status=204)


def error_response(err: ApiError) -> web.Response:
    return json_response(err.body(), status=err.status)


async def read_body(request: web.Request) -> Body:
    """Parse JSON or multipart (payload_json + files[n]) once, caching on the request."""
    cached = request.get(BODY_KEY)
    if cached is not None:
        return cached
    body = Body()
    ctype = request.content_type
    if ctype.startswith("multipart/"):
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            name = getattr(part, "name", None) or ""
            data = await part.read()  # type: ignore[union-attr]
            if name == "payload_json":
                body.json = json.loads(data.decode("utf-8"))
            elif name.startswith("files["):
                idx = int(name[6:-1])
                body.files.append(
                    UploadedFile(
                        index=idx,
                        filename=getattr(part, "filename", None) or f"file{idx}",
                        data=bytes(data),
                        content_type=part.headers.get("Content-Type"),
                    )
                )
    else:
        raw = await request.read()
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError as exc:
                raise ApiError(400, 50109, "The request body contains invalid JSON.") from exc
            body.json = parsed if isinstance(parsed, dict) else {"__list__": parsed}
    request[BODY_KEY] = body
    return body
