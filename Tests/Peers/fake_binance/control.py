"""The control API under /fake/ (unsigned, JSON in and out): how a test moves the market, arms misbehaviour and reads
the witness logs. Never rate-limited, never logged in /fake/requests."""
import json
from decimal import Decimal, InvalidOperation

from aiohttp import web

from .errors import ApiError
from .limits import BEHAVIOURS
from .util import f8


class BadControl(Exception):
    pass


def _ok(body=None):
    return web.json_response(body if body is not None else {"ok": True})


async def _body(request):
    text = await request.text()
    if not text.strip():
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        raise BadControl("the body is not JSON")
    if not isinstance(body, dict):
        raise BadControl("the body must be a JSON object")
    return body


def _decimal(body, name, required=True):
    value = body.get(name)
    if value is None:
        if required:
            raise BadControl(f"'{name}' is required")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise BadControl(f"'{name}' is not a decimal: {value!r}")
    if not number.is_finite() or number < 0:
        raise BadControl(f"'{name}' must be a finite, non-negative decimal")
    return number


def _int(body, name, default=None):
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise BadControl(f"'{name}' must be an integer")
    return int(value)


async def price(request, fake):
    """POST /fake/price {"symbol","bid","ask"[,"bidQty","askQty","last"]}: moves the market."""
    body = await _body(request)
    symbol = fake.engine.symbols.get(str(body.get("symbol", "")))
    if symbol is None:
        raise BadControl(f"unknown symbol {body.get('symbol')!r}")
    bid, ask = _decimal(body, "bid"), _decimal(body, "ask")
    if not 0 < bid < ask:
        raise BadControl("need 0 < bid < ask")
    made = fake.engine.set_price(symbol, bid, ask, _decimal(body, "bidQty", False), _decimal(body, "askQty", False),
                                 _decimal(body, "last", False))
    return _ok({"symbol": symbol.name, "bid": f8(bid), "ask": f8(ask), "trades": [t.my_trade() for t in made]})


async def stream(request, fake):
    """POST /fake/stream {"stream","data"}: one market-stream message as given, malformed ones included (extension)."""
    body = await _body(request)
    name, data = body.get("stream"), body.get("data")
    if not isinstance(name, str) or not isinstance(data, dict):
        raise BadControl("need stream (a stream name) and data (an object)")
    fake.engine.sink.stream(name, data)
    return _ok()


async def behaviour(request, fake):
    """POST /fake/behaviour {"name", "count", ...options}: the next `count` matching requests misbehave."""
    body = await _body(request)
    name = body.get("name")
    if name not in BEHAVIOURS:
        raise BadControl(f"unknown behaviour {name!r}; known: {', '.join(BEHAVIOURS)}")
    count = _int(body, "count", 1)
    options = {k: v for k, v in body.items() if k not in ("name", "count")}
    if name == "drop_streams":
        await fake.hub.drop_all(graceful=bool(options.get("graceful")))
        return _ok()
    fake.behaviours.arm(name, count, options)
    return _ok({"armed": fake.behaviours.describe()})


async def clock(request, fake):
    """POST /fake/clock {"offsetMs"}: shifts the server's clock."""
    body = await _body(request)
    fake.clock.offset_ms = _int(body, "offsetMs", 0)
    return _ok({"offsetMs": fake.clock.offset_ms, "serverTime": fake.clock.now_ms()})


async def limits(request, fake):
    """POST /fake/limits {"weight1m","orders10s","orders1d"[,"banSeconds","reset"]}."""
    body = await _body(request)
    fake.limits.set(_int(body, "weight1m"), _int(body, "orders10s"), _int(body, "orders1d"),
                    _decimal(body, "banSeconds", False), bool(body.get("reset", False)))
    return _ok({"rateLimits": fake.limits.rate_limits_info(), "banSeconds": fake.limits.ban_seconds})


async def partial(request, fake):
    """POST /fake/partial {"parts"}: later MARKET orders fill in that many parts (1 = at once)."""
    body = await _body(request)
    parts = _int(body, "parts", 1)
    if parts < 1:
        raise BadControl("'parts' must be >= 1")
    fake.engine.partial_parts = parts
    return _ok({"parts": parts})


async def advance(request, fake):
    """POST /fake/advance {}: the next part of every partially filled order."""
    made = fake.engine.advance()
    return _ok({"trades": [t.my_trade() for t in made]})


async def commission(request, fake):
    """POST /fake/commission {"asset": "quote"|"base"|"BNB", "rate"[, "bnbPrice", "special": {"SYMBOL": "rate"}]}."""
    body = await _body(request)
    asset = body.get("asset", fake.engine.commission_mode)
    if asset not in ("quote", "base", "BNB"):
        raise BadControl("'asset' must be quote, base or BNB")
    fake.engine.commission_mode = asset
    rate = _decimal(body, "rate", False)
    if rate is not None:
        fake.engine.commission_rate = rate
    special = body.get("special")
    if special is not None:
        if not isinstance(special, dict):
            raise BadControl("'special' must map symbols to rates")
        fake.engine.special_commission = {str(k): _decimal({"v": v}, "v") for k, v in special.items()}
    bnb_price = _decimal(body, "bnbPrice", False)
    if bnb_price is not None:
        fake.engine.bnb_price = bnb_price
    return _ok({"asset": asset, "rate": str(fake.engine.commission_rate)})


async def filters(request, fake):
    """POST /fake/filters {"symbol"[, "tick", "step", "minQty", "maxQty", "minNotional"]}: changes a symbol's filters,
    as Binance does now and then (exchangeInfo shows the new ones; orders are checked against them)."""
    body = await _body(request)
    symbol = fake.engine.symbols.get(str(body.get("symbol", "")))
    if symbol is None:
        raise BadControl(f"unknown symbol {body.get('symbol')!r}")
    for key, field in (("tick", "tick"), ("step", "step"), ("minQty", "min_qty"), ("maxQty", "max_qty"),
                       ("minNotional", "min_notional")):
        value = _decimal(body, key, False)
        if value is not None:
            if value <= 0:
                raise BadControl(f"'{key}' must be positive")
            setattr(symbol, field, value)
    if body.get("tick") is not None:
        symbol.min_price = symbol.tick
    return _ok({"symbol": symbol.name, "filters": symbol.filters()})


async def ping(request, fake):
    """POST /fake/ping {"intervalSeconds","timeoutSeconds"}: server ping period and pong deadline (20 s / 60 s)."""
    body = await _body(request)
    interval, timeout = _decimal(body, "intervalSeconds", False), _decimal(body, "timeoutSeconds", False)
    if interval is not None:
        fake.ping_interval = max(0.05, float(interval))
    if timeout is not None:
        fake.pong_timeout = float(timeout)
    return _ok({"intervalSeconds": fake.ping_interval, "timeoutSeconds": fake.pong_timeout})


async def status(request, fake):
    """POST /fake/status {"symbol","status"}: a symbol's trading status (enums.md "Symbol status"), as Binance pauses a
    symbol for maintenance or a halt: exchangeInfo shows it, and new orders get -2010 "Market is closed." unless TRADING."""
    body = await _body(request)
    symbol = fake.engine.symbols.get(str(body.get("symbol", "")))
    if symbol is None:
        raise BadControl(f"unknown symbol {body.get('symbol')!r}")
    value = body.get("status")
    if value not in ("TRADING", "END_OF_DAY", "HALT", "BREAK", "CANCEL_ONLY"):
        raise BadControl("'status' must be TRADING, END_OF_DAY, HALT, BREAK or CANCEL_ONLY")
    symbol.status = value
    return _ok({"symbol": symbol.name, "status": symbol.status})


async def balance(request, fake):
    """POST /fake/balance {"asset","free"}: sets a free balance (an extension for tests)."""
    body = await _body(request)
    asset = body.get("asset")
    if not isinstance(asset, str) or not asset:
        raise BadControl("'asset' is required")
    fake.engine._balance(asset)[0] = _decimal(body, "free")
    return _ok()


async def place(request, fake):
    """POST /fake/place {"symbol","side","type": "MARKET"|"LIMIT","quantity"[,"price","clientOrderId"]}: an order
    placed on the account from elsewhere (the trader's app, another bot): it trades and streams its executionReports
    like any other, but is not a request of the client under test (not in /fake/requests)."""
    body = await _body(request)
    symbol = fake.engine.symbols.get(str(body.get("symbol", "")))
    if symbol is None:
        raise BadControl(f"unknown symbol {body.get('symbol')!r}")
    side, order_type = body.get("side"), body.get("type", "MARKET")
    if side not in ("BUY", "SELL"):
        raise BadControl("'side' must be BUY or SELL")
    if order_type not in ("MARKET", "LIMIT"):
        raise BadControl("'type' must be MARKET or LIMIT")
    qty = _decimal(body, "quantity")
    price = _decimal(body, "price", order_type == "LIMIT")
    client_id = body.get("clientOrderId") or fake.engine.new_client_id("web")
    if not isinstance(client_id, str):
        raise BadControl("'clientOrderId' must be a string")
    try:
        order, made = fake.engine.place(symbol, side, order_type, "GTC" if order_type == "LIMIT" else None, qty,
                                        price if price is not None else Decimal(0), None, client_id, "NONE", "app", {})
    except ApiError as error:
        raise BadControl(f"the engine refused the order: {error}")
    return _ok({"clientOrderId": order.client_order_id, "status": order.status, "trades": [t.my_trade() for t in made]})


async def balances(request, fake):
    return _ok({a: {"free": f8(free), "locked": f8(locked)} for a, (free, locked) in fake.engine.balances.items()})


async def requests(request, fake):
    return _ok(fake.requests)


async def orders(request, fake):
    return _ok([o.witness() for o in fake.engine.orders])


async def reset_log(request, fake):
    fake.requests.clear()
    return _ok()


async def health(request, fake):
    return _ok({"ok": True, "serverTime": fake.clock.now_ms()})


ROUTES = [
    ("POST", "/fake/price", price), ("POST", "/fake/stream", stream), ("POST", "/fake/behaviour", behaviour), ("POST", "/fake/clock", clock),
    ("POST", "/fake/limits", limits), ("POST", "/fake/partial", partial), ("POST", "/fake/advance", advance),
    ("POST", "/fake/commission", commission), ("POST", "/fake/ping", ping), ("POST", "/fake/filters", filters), ("POST", "/fake/status", status), ("POST", "/fake/balance", balance),
    ("POST", "/fake/place", place), ("GET", "/fake/balances", balances), ("GET", "/fake/requests", requests), ("GET", "/fake/orders", orders),
    ("POST", "/fake/reset-log", reset_log), ("GET", "/fake/health", health),
]


def wrap(handler):
    async def run(request):
        try:
            return await handler(request, request.app["fake"])
        except BadControl as error:
            return web.json_response({"error": str(error)}, status=400)
    return run
