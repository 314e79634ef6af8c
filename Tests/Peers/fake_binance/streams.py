"""Market streams (web-socket-streams.md): /stream?streams=a/b (combined) and /ws/<stream> (raw)."""
import json
import logging

from aiohttp import WSMsgType, web

from . import errors
from .hub import Connection

log = logging.getLogger("fake_binance")
METHODS = "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"


async def handle_combined(request):
    names = [n for n in request.query.get("streams", "").split("/") if n]
    return await _serve(request, names, combined=True)


async def handle_raw(request):
    names = [n for n in request.match_info.get("streams", "").split("/") if n]
    return await _serve(request, names, combined=False)


async def _serve(request, names, combined):
    fake = request.app["fake"]
    entry = fake.log_request("stream", "GET", request.path, dict(request.query))
    try:
        fake.limits.gate(fake.clock.now_ms())
    except errors.ApiError as error:
        fake.answered(entry, error.status, error.code)
        return web.json_response(error.body(), status=error.status, headers=error.headers)
    ws = web.WebSocketResponse(autoping=False)
    await ws.prepare(request)
    fake.answered(entry, 101)
    conn = Connection(ws, request, "stream", fake.clock.now_ms())
    conn.combined = combined
    fake.hub.add(conn)
    _subscribe(fake, conn, names)
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                _control_message(fake, conn, message.data)
            elif message.type == WSMsgType.PING:
                await ws.pong(message.data)
            elif message.type == WSMsgType.PONG:
                conn.pong_received(message.data)
    finally:
        fake.hub.remove(conn)
    return ws


def _subscribe(fake, conn, names):
    """Adds streams; a new `<symbol>@bookTicker` gets the current best bid/ask at once (see README)."""
    for name in names:
        if name in conn.streams:
            continue
        conn.streams.append(name)
        symbol_part, _, kind = name.partition("@")
        symbol = fake.engine.symbols.get(symbol_part.upper())
        if kind == "bookTicker" and symbol is not None and symbol_part == symbol_part.lower():
            conn.send({"stream": name, "data": symbol.book_ticker()} if conn.combined else symbol.book_ticker())


def _control_message(fake, conn, text):
    """web-socket-streams.md "Live Subscribing/Unsubscribing to streams" and its "Error Messages"."""
    try:
        request = json.loads(text)
    except ValueError:
        conn.send({"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"})
        return
    if not isinstance(request, dict) or "method" not in request:
        conn.send({"code": 2, "msg": "Invalid request: missing field `method` at line 1 column 1"})
        return
    request_id, method, params = request.get("id"), request.get("method"), request.get("params", [])
    if not (request_id is None or isinstance(request_id, int) or isinstance(request_id, str) and request_id.isalnum()):
        conn.send({"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"})
        return
    if method == "SUBSCRIBE":
        _subscribe(fake, conn, [p for p in params if isinstance(p, str)])
        conn.send({"result": None, "id": request_id})
    elif method == "UNSUBSCRIBE":
        conn.streams = [s for s in conn.streams if s not in params]
        conn.send({"result": None, "id": request_id})
    elif method == "LIST_SUBSCRIPTIONS":
        conn.send({"result": list(conn.streams), "id": request_id})
    elif method in ("SET_PROPERTY", "GET_PROPERTY"):
        if not params or params[0] != "combined":
            conn.send({"code": 0, "msg": "Unknown property", "id": request_id})
        elif method == "GET_PROPERTY":
            conn.send({"result": conn.combined, "id": request_id})
        elif len(params) < 2 or not isinstance(params[1], bool):
            conn.send({"code": 1, "msg": "Invalid value type: expected Boolean"})
        else:
            conn.combined = params[1]
            conn.send({"result": None, "id": request_id})
    else:
        conn.send({"code": 2, "msg": f"Invalid request: unknown variant {method}, expected one of {METHODS} at line 1 column 28"})
