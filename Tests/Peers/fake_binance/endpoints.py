"""The endpoints' logic, shared by the REST API (/api/v3/...) and the WebSocket API (order.place ...).

Each handler reads a `util.Params`, raises `errors.ApiError` as Binance would, and returns the JSON body.
`ctx` carries what the caller needs back: `ctx["executed"]` is set when an order was created.
"""
import re
from dataclasses import dataclass, field

from . import errors
from .util import ZERO, f8, json_symbols, parse_timestamp_ms

ORDER_TYPES = ("LIMIT", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT", "LIMIT_MAKER")
STP_MODES = ("NONE", "EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH", "DECREMENT", "TRANSFER")
# errors.md "Messages for ... -2010": order types this fake's symbols do not enable (exchangeInfo `orderTypes`).
UNSUPPORTED_TYPES = {
    "STOP_LOSS": "Stop loss orders are not supported for this symbol.",
    "STOP_LOSS_LIMIT": "Stop loss limit orders are not supported for this symbol.",
    "TAKE_PROFIT": "Take profit orders are not supported for this symbol.",
    "TAKE_PROFIT_LIMIT": "Take profit limit orders are not supported for this symbol.",
}


@dataclass
class Endpoint:
    method: str
    path: str
    handler: object
    weight: object  # int, or a function of the Params' values
    signed: bool = False
    params: tuple = ()  # every parameter the endpoint reads (others: -1104)
    order: bool = False  # POST /api/v3/order: ORDERS counts, X-MBX-ORDER-COUNT-* headers, order behaviours
    zero_on_success: bool = False  # CHANGELOG 2026-03-27: weight 0 when successful
    ws_method: str = ""
    extra: dict = field(default_factory=dict)

    def weight_of(self, values):
        return self.weight(values) if callable(self.weight) else self.weight


# ----- general (rest-api.md "General endpoints")

def ping(fake, p, ctx):
    return {}


def server_time(fake, p, ctx):
    return {"serverTime": fake.clock.now_ms()}


def exchange_info(fake, p, ctx):
    """rest-api.md "Exchange information"."""
    symbol, symbols = p.string("symbol"), p.string("symbols")
    for name in ("permissions", "showPermissionSets"):
        p.raw(name)
    status = p.raw("symbolStatus")
    # symbolStatus "Cannot be used in combination with symbol or symbols".
    if symbol is not None and symbols is not None or status is not None and (symbol is not None or symbols is not None):
        raise errors.bad_combination()
    names = [symbol] if symbol is not None else json_symbols(symbols) if symbols is not None else list(fake.engine.symbols)
    chosen = [s for s in (fake.engine.symbol(name) for name in names) if status is None or s.status == status]
    return {"timezone": "UTC", "serverTime": fake.clock.now_ms(), "rateLimits": fake.limits.rate_limits_info(),
            "exchangeFilters": [], "symbols": [s.info() for s in chosen]}


def _ticker_symbols(fake, p):
    symbol, symbols = p.string("symbol"), p.string("symbols")
    p.raw("symbolStatus")
    if symbol is not None and symbols is not None:
        raise errors.bad_combination()
    if symbol is not None:
        return fake.engine.symbol(symbol), None
    names = json_symbols(symbols) if symbols is not None else list(fake.engine.symbols)
    return None, [fake.engine.symbol(name) for name in names]


def ticker_price(fake, p, ctx):
    """rest-api.md "Symbol price ticker": the last price (the last fill, else the bid the last /fake/price set)."""
    one, many = _ticker_symbols(fake, p)
    row = lambda s: {"symbol": s.name, "price": f8(s.last)}
    return row(one) if one else [row(s) for s in many]


def ticker_book(fake, p, ctx):
    """rest-api.md "Symbol order book ticker"."""
    one, many = _ticker_symbols(fake, p)
    row = lambda s: {"symbol": s.name, "bidPrice": f8(s.bid), "bidQty": f8(s.bid_qty), "askPrice": f8(s.ask), "askQty": f8(s.ask_qty)}
    return row(one) if one else [row(s) for s in many]


def ticker_weight(values):
    return 2 if values.get("symbol") else 4


# ----- trading (rest-api.md "New order", "Cancel order")

def _client_id(p, name):
    value = p.raw(name)
    if value is None:
        return None
    if not re.fullmatch(errors.CLIENT_ID_RANGE, value):
        raise errors.illegal_chars(name, errors.CLIENT_ID_RANGE)
    return value


def _order_shape(p, order_type):
    """The type's mandatory parameters and those it must not have (rest-api.md "New order" table)."""
    tif = p.enum("timeInForce", ("GTC", "IOC", "FOK"), errors.invalid_tif)
    qty, quote_qty, price = p.decimal("quantity"), p.decimal("quoteOrderQty"), p.decimal("price")
    if p.decimal("stopPrice") is not None:
        raise errors.not_required("stopPrice")
    if order_type == "LIMIT":
        for name, value in (("timeInForce", tif), ("quantity", qty), ("price", price)):
            if value is None:
                raise errors.mandatory(name)
        if quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
    elif order_type == "LIMIT_MAKER":
        for name, value in (("quantity", qty), ("price", price)):
            if value is None:
                raise errors.mandatory(name)
        if tif is not None:
            raise errors.not_required("timeInForce")
        if quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
        tif = "GTC"
    else:  # MARKET
        if qty is None and quote_qty is None:
            raise errors.either("quantity", "quoteOrderQty")
        if qty is not None and quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
        if tif is not None:
            raise errors.not_required("timeInForce")
        if price is not None:
            raise errors.not_required("price")
        tif = "GTC"
    return tif, qty, quote_qty, price


def _unsupported_extras(p):
    """Parameters for features the fake's symbols do not enable (exchangeInfo: iceberg, trailing, peg all false)."""
    if p.decimal("icebergQty") is not None:
        raise errors.order_rejected("Iceberg orders are not supported for this symbol.")
    if p.long("trailingDelta") is not None:
        raise errors.order_rejected("Trailing stop orders are not supported for this symbol.")
    peg = [p.raw(name) for name in ("pegPriceType", "pegOffsetValue", "pegOffsetType")]
    if any(v is not None for v in peg):
        raise errors.order_rejected("Pegged orders are not supported for this symbol.")


def new_order(fake, p, ctx):
    """POST /api/v3/order, order.place."""
    symbol = fake.engine.symbol(p.string("symbol", True))
    side = p.enum("side", ("BUY", "SELL"), errors.invalid_side, True)
    order_type = p.enum("type", ORDER_TYPES, errors.invalid_order_type, True)
    resp_type = p.enum("newOrderRespType", ("ACK", "RESULT", "FULL"), lambda: errors.invalid_parameter("newOrderRespType"))
    stp = p.enum("selfTradePreventionMode", STP_MODES, lambda: errors.invalid_parameter("selfTradePreventionMode")) or "NONE"
    client_id = _client_id(p, "newClientOrderId")
    strategy_id, strategy_type = p.long("strategyId"), p.long("strategyType")
    if strategy_type is not None and strategy_type < 1000000:
        raise errors.ApiError(400, -1134, "strategyType was less than 1000000.")
    if order_type in UNSUPPORTED_TYPES:
        raise errors.order_rejected(UNSUPPORTED_TYPES[order_type])
    tif, qty, quote_qty, price = _order_shape(p, order_type)
    _unsupported_extras(p)
    if symbol.status != "TRADING":
        raise errors.order_rejected("Market is closed.")  # errors.md: "The symbol is not trading."
    if quote_qty is not None:
        qty = fake.engine.market_quantity(symbol, side, quote_qty)
    fake.engine.check_filters(symbol, order_type, price, qty)
    fake.limits.check_orders(fake.clock.now_ms())  # rest-api.md "Unfilled Order Count": 429 -1015
    order, made = fake.engine.place(
        symbol, side, order_type, tif, qty, price or ZERO, quote_qty, client_id or fake.engine.new_client_id("order"),
        stp, ctx["via"], ctx.get("flags", {}), strategy_id, strategy_type)
    fake.limits.count_order()
    ctx["executed"] = True
    ctx["order"] = order
    resp_type = resp_type or ("FULL" if order_type in ("MARKET", "LIMIT") else "ACK")
    if resp_type == "ACK":
        return order.ack(order.time)
    body = order.result(order.time)
    if resp_type == "FULL":
        body["fills"] = [t.fill() for t in made]
        # short_fills: an answer whose fills fall short of its executedQty (its last fill left out).
        if made and fake.behaviours.take("short_fills") is not None:
            body["fills"] = body["fills"][:-1]
    return body


def test_order(fake, p, ctx):
    """POST /api/v3/order/test: validated like an order, never sent to the engine (rest-api.md "Test new order")."""
    if p.boolean("computeCommissionRates"):
        raise errors.unsupported_operation()
    symbol = fake.engine.symbol(p.string("symbol", True))
    side = p.enum("side", ("BUY", "SELL"), errors.invalid_side, True)
    order_type = p.enum("type", ORDER_TYPES, errors.invalid_order_type, True)
    p.enum("newOrderRespType", ("ACK", "RESULT", "FULL"), lambda: errors.invalid_parameter("newOrderRespType"))
    p.enum("selfTradePreventionMode", STP_MODES, lambda: errors.invalid_parameter("selfTradePreventionMode"))
    _client_id(p, "newClientOrderId")
    p.long("strategyId"), p.long("strategyType")
    if order_type in UNSUPPORTED_TYPES:
        raise errors.order_rejected(UNSUPPORTED_TYPES[order_type])
    _, qty, quote_qty, price = _order_shape(p, order_type)
    _unsupported_extras(p)
    if quote_qty is not None:
        qty = fake.engine.market_quantity(symbol, side, quote_qty)
    fake.engine.check_filters(symbol, order_type, price, qty)
    return {}


def _find(fake, p, not_found):
    """The order named by orderId and/or origClientOrderId (rest-api.md "Query order" notes)."""
    symbol = fake.engine.symbol(p.string("symbol", True))
    order_id = p.long("orderId")
    client_id = p.raw("origClientOrderId")
    if order_id is None and client_id is None:
        raise errors.either("origClientOrderId", "orderId")
    order = fake.engine.find_order(symbol.name, order_id, client_id)
    if order is None:
        raise not_found()
    if order_id is not None and client_id is not None and order.client_order_id != client_id:
        raise errors.client_order_id_mismatch()
    return order


def query_order(fake, p, ctx):
    """GET /api/v3/order, order.status: -2013 when there is no such order (errors.md)."""
    return _find(fake, p, errors.no_such_order).query()


def cancel_order(fake, p, ctx):
    """DELETE /api/v3/order, order.cancel: -2011 "Unknown order sent." when there is nothing to cancel."""
    fake.engine.symbol(p.string("symbol", True))
    restriction = p.enum("cancelRestrictions", ("ONLY_NEW", "ONLY_PARTIALLY_FILLED"), errors.invalid_cancel_restrictions)
    cancel_id = _client_id(p, "newClientOrderId") or fake.engine.new_client_id("cancel")
    order = _find(fake, p, errors.cancel_rejected)
    fake.engine.cancel(order, cancel_id, restriction)
    return order.canceled(cancel_id, order.update_time)


def open_orders(fake, p, ctx):
    """GET /api/v3/openOrders, openOrders.status."""
    name = p.string("symbol")
    if name is not None:
        fake.engine.symbol(name)
    return [o.query() for o in fake.engine.open_orders(name)]


def open_orders_weight(values):
    return 6 if values.get("symbol") else 80


# ----- account (rest-api.md "Account Endpoints")

def account(fake, p, ctx):
    """GET /api/v3/account, account.status."""
    omit_zero = p.boolean("omitZeroBalances")
    rate = fake.engine.commission_rate
    bps = int(rate * 10000)
    balances = [{"asset": a, "free": f8(free), "locked": f8(locked)} for a, (free, locked) in fake.engine.balances.items()
                if not (omit_zero and free == 0 and locked == 0)]
    return {"makerCommission": bps, "takerCommission": bps, "buyerCommission": 0, "sellerCommission": 0,
            "commissionRates": {"maker": f8(rate), "taker": f8(rate), "buyer": f8(0), "seller": f8(0)},
            "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False, "updateTime": fake.engine.account_update_time,
            "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": 354937868}


# rest-api.md "Account trade list": the supported combinations (besides `limit`).
MY_TRADES_COMBINATIONS = [set(), {"orderId"}, {"startTime"}, {"endTime"}, {"fromId"}, {"startTime", "endTime"},
                          {"orderId", "fromId"}]


def account_commission(fake, p, ctx):
    """GET /api/v3/account/commission (rest-api.md "Query Commission Rates"): the symbol's rates."""
    symbol = fake.engine.symbol(p.string("symbol", required=True))
    rate, special = fake.engine.commission_rate, fake.engine.special_commission.get(symbol.name, ZERO)
    rates = lambda r: {"maker": f8(r), "taker": f8(r), "buyer": f8(0), "seller": f8(0)}
    return {"symbol": symbol.name, "standardCommission": rates(rate), "specialCommission": rates(special),
            "taxCommission": rates(ZERO),
            "discount": {"enabledForAccount": True, "enabledForSymbol": True, "discountAsset": "BNB", "discount": "0.75000000"}}


def my_trades(fake, p, ctx):
    """GET /api/v3/myTrades, myTrades."""
    symbol = fake.engine.symbol(p.string("symbol", True))
    order_id, from_id = p.long("orderId"), p.long("fromId")
    start, end = p.long("startTime"), p.long("endTime")
    limit = p.long("limit")
    given = {name for name, value in (("orderId", order_id), ("fromId", from_id), ("startTime", start), ("endTime", end))
             if value is not None}
    if given not in MY_TRADES_COMBINATIONS:
        raise errors.bad_combination()
    limit = 500 if limit is None else limit
    if limit < 1 or limit > 1000:
        raise errors.invalid_parameter("limit")
    start = parse_timestamp_ms(start) if start is not None else None
    end = parse_timestamp_ms(end) if end is not None else None
    if start is not None and end is not None and end - start > 24 * 3600 * 1000:
        raise errors.interval_too_big()
    trades = fake.engine.trades[symbol.name]
    # trades_lag: myTrades reads Binance's database ("Memory => Database"), which can lag the order's status held in
    # memory; the newest trade of the symbol is left out of the next `count` answers.
    if trades and fake.behaviours.take("trades_lag") is not None:
        trades = trades[:-1]
    if order_id is not None:
        trades = [t for t in trades if t.order_id == order_id]
    if from_id is not None:
        trades = [t for t in trades if t.id >= from_id][:limit]
    elif start is not None:
        trades = [t for t in trades if t.time >= start and (end is None or t.time <= end)][:limit]
    elif end is not None:
        trades = [t for t in trades if t.time <= end][-limit:]
    elif order_id is not None:
        trades = trades[:limit]
    else:
        trades = trades[-limit:]
    return [t.my_trade() for t in trades]


def my_trades_weight(values):
    return 5 if values.get("orderId") else 20


def rate_limit_order(fake, p, ctx):
    """GET /api/v3/rateLimit/order (rest-api.md "Query Unfilled Order Count")."""
    ten, day = fake.limits.order_counts()
    return [
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": fake.limits.orders_10s.limit, "count": ten},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": fake.limits.orders_1d.limit, "count": day},
    ]


SIGNED_COMMON = ("recvWindow", "timestamp", "signature")
ORDER_PARAMS = ("symbol", "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price", "newClientOrderId",
                "strategyId", "strategyType", "stopPrice", "trailingDelta", "icebergQty", "newOrderRespType",
                "selfTradePreventionMode", "pegPriceType", "pegOffsetValue", "pegOffsetType") + SIGNED_COMMON

# Weights from each endpoint's "Weight:" in rest-api.md / web-socket-api.md.
ENDPOINTS = [
    Endpoint("GET", "/api/v3/ping", ping, 1, ws_method="ping"),
    Endpoint("GET", "/api/v3/time", server_time, 1, ws_method="time"),
    Endpoint("GET", "/api/v3/exchangeInfo", exchange_info, 20, ws_method="exchangeInfo",
             params=("symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus")),
    Endpoint("GET", "/api/v3/ticker/price", ticker_price, ticker_weight, ws_method="ticker.price",
             params=("symbol", "symbols", "symbolStatus")),
    Endpoint("GET", "/api/v3/ticker/bookTicker", ticker_book, ticker_weight, ws_method="ticker.book",
             params=("symbol", "symbols", "symbolStatus")),
    Endpoint("POST", "/api/v3/order", new_order, 1, signed=True, order=True, zero_on_success=True, ws_method="order.place",
             params=ORDER_PARAMS),
    Endpoint("POST", "/api/v3/order/test", test_order, 1, signed=True, ws_method="order.test",
             params=ORDER_PARAMS + ("computeCommissionRates",)),
    Endpoint("GET", "/api/v3/order", query_order, 4, signed=True, ws_method="order.status",
             params=("symbol", "orderId", "origClientOrderId") + SIGNED_COMMON),
    Endpoint("DELETE", "/api/v3/order", cancel_order, 1, signed=True, zero_on_success=True, ws_method="order.cancel",
             params=("symbol", "orderId", "origClientOrderId", "newClientOrderId", "cancelRestrictions") + SIGNED_COMMON),
    Endpoint("GET", "/api/v3/openOrders", open_orders, open_orders_weight, signed=True, ws_method="openOrders.status",
             params=("symbol",) + SIGNED_COMMON),
    Endpoint("GET", "/api/v3/account", account, 20, signed=True, ws_method="account.status",
             params=("omitZeroBalances",) + SIGNED_COMMON),
    Endpoint("GET", "/api/v3/account/commission", account_commission, 20, signed=True, ws_method="account.commission",
             params=("symbol",) + SIGNED_COMMON),
    Endpoint("GET", "/api/v3/myTrades", my_trades, my_trades_weight, signed=True, ws_method="myTrades",
             params=("symbol", "orderId", "startTime", "endTime", "fromId", "limit") + SIGNED_COMMON),
    Endpoint("GET", "/api/v3/rateLimit/order", rate_limit_order, 40, signed=True, ws_method="account.rateLimits.orders",
             params=SIGNED_COMMON),
]
