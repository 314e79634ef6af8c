"""The matching engine: symbols, the (synthetic) best bid/ask, balances, orders, trades and the events they cause.

Liquidity is unlimited at the best bid/ask a test sets through POST /fake/price: a taker fills whole at the
opposite best price; a resting LIMIT order fills whole, at its own price, when the price is moved across it.
All amounts are `decimal.Decimal`; every one shown is a string with 8 decimals (util.f8).
"""
import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_UP, Decimal

from . import errors
from .util import ZERO, f8, floor_to_step, q8

OPEN = ("NEW", "PARTIALLY_FILLED")
QUOTE_ASSETS = ("USDT", "USDC", "FDUSD", "BTC", "ETH", "BNB")
MAX_NUM_ORDERS = 200

# Built-in symbols (shapes from filters.md; values as the brief sets them, BNBUSDT for BNB commissions).
BUILTIN_SYMBOLS = {
    "BTCUSDT": dict(tick="0.01", step="0.00001", min_qty="0.00001", max_qty="9000", market_max_qty="100",
                    min_notional="5", bid="60000.00", ask="60000.01"),
    "ETHUSDT": dict(tick="0.01", step="0.0001", min_qty="0.0001", max_qty="9000", market_max_qty="1000",
                    min_notional="5", bid="3000.00", ask="3000.01"),
    "BNBUSDT": dict(tick="0.01", step="0.001", min_qty="0.001", max_qty="9000", market_max_qty="1000",
                    min_notional="5", bid="600.00", ask="600.01"),
}
GENERIC_SYMBOL = dict(tick="0.01", step="0.0001", min_qty="0.0001", max_qty="9000", market_max_qty="1000",
                      min_notional="5", bid="100.00", ask="100.01")


def split_symbol(name):
    """Base and quote assets from a symbol's name (BTCUSDT -> BTC, USDT)."""
    for quote in QUOTE_ASSETS:
        if name.endswith(quote) and len(name) > len(quote):
            return name[: -len(quote)], quote
    raise ValueError(f"cannot tell the quote asset of symbol {name!r} (known quotes: {', '.join(QUOTE_ASSETS)})")


@dataclass
class Symbol:
    name: str
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal
    bid: Decimal
    ask: Decimal
    min_price: Decimal = Decimal("0.01")
    max_price: Decimal = Decimal("1000000")
    max_notional: Decimal = Decimal("9000000")
    bid_qty: Decimal = Decimal("10")
    ask_qty: Decimal = Decimal("10")
    last: Decimal = ZERO
    update_id: int = 1
    next_order_id: int = 1
    next_trade_id: int = 1
    # enums.md "Symbol status": TRADING, END_OF_DAY, HALT, BREAK, CANCEL_ONLY (set by /fake/status)
    status: str = "TRADING"

    @classmethod
    def make(cls, name):
        spec = BUILTIN_SYMBOLS.get(name, GENERIC_SYMBOL)
        base, quote = split_symbol(name)
        values = {key: Decimal(value) for key, value in spec.items()}
        symbol = cls(name=name, base=base, quote=quote, min_price=values["tick"], **values)
        symbol.last = symbol.bid
        return symbol

    def filters(self):
        """This symbol's filters in /exchangeInfo format (filters.md)."""
        return [
            {"filterType": "PRICE_FILTER", "minPrice": f8(self.min_price), "maxPrice": f8(self.max_price), "tickSize": f8(self.tick)},
            {"filterType": "LOT_SIZE", "minQty": f8(self.min_qty), "maxQty": f8(self.max_qty), "stepSize": f8(self.step)},
            {"filterType": "MARKET_LOT_SIZE", "minQty": f8(0), "maxQty": f8(self.market_max_qty), "stepSize": f8(0)},
            {"filterType": "NOTIONAL", "minNotional": f8(self.min_notional), "applyMinToMarket": True,
             "maxNotional": f8(self.max_notional), "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": MAX_NUM_ORDERS},
        ]

    def info(self):
        """This symbol as /exchangeInfo's `symbols` lists it (rest-api.md "Exchange information")."""
        return {
            "symbol": self.name, "status": self.status,
            "baseAsset": self.base, "baseAssetPrecision": 8, "quoteAsset": self.quote, "quotePrecision": 8,
            "quoteAssetPrecision": 8, "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
            "icebergAllowed": False, "ocoAllowed": False, "otoAllowed": False, "opoAllowed": False,
            "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": False, "cancelReplaceAllowed": False,
            "amendAllowed": False, "pegInstructionsAllowed": False, "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False, "filters": self.filters(), "permissions": [], "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "NONE",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT", "TRANSFER"],
        }

    def book_ticker(self):
        """A `<symbol>@bookTicker` payload (web-socket-streams.md "Individual Symbol Book Ticker Streams")."""
        return {"u": self.update_id, "s": self.name, "b": f8(self.bid), "B": f8(self.bid_qty), "a": f8(self.ask), "A": f8(self.ask_qty)}


@dataclass
class Trade:
    id: int
    symbol: str
    order_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool

    def my_trade(self):
        """As GET /api/v3/myTrades lists it (rest-api.md "Account trade list")."""
        return {"symbol": self.symbol, "id": self.id, "orderId": self.order_id, "orderListId": -1,
                "price": f8(self.price), "qty": f8(self.qty), "quoteQty": f8(self.quote_qty),
                "commission": f8(self.commission), "commissionAsset": self.commission_asset, "time": self.time,
                "isBuyer": self.is_buyer, "isMaker": self.is_maker, "isBestMatch": True}

    def fill(self):
        """As an order response's `fills` lists it (rest-api.md "Response - FULL")."""
        return {"price": f8(self.price), "qty": f8(self.qty), "commission": f8(self.commission),
                "commissionAsset": self.commission_asset, "tradeId": self.id}


@dataclass
class Order:
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    tif: str
    price: Decimal
    orig_qty: Decimal
    orig_quote_qty: Decimal
    stp: str
    time: int
    via: str
    status: str = "NEW"
    executed: Decimal = ZERO
    cum_quote: Decimal = ZERO
    update_time: int = 0
    expiry_reason: str = ""
    lock_asset: str = ""
    lock_unit: Decimal = ZERO
    locked: Decimal = ZERO
    pending_parts: list = field(default_factory=list)
    trades: list = field(default_factory=list)
    duplicate_fills: bool = False
    reverse_fills: bool = False
    held: list = field(default_factory=list)
    strategy_id: int = None
    strategy_type: int = None

    def on_book(self):
        return self.status in OPEN and self.type in ("LIMIT", "LIMIT_MAKER") and not self.pending_parts

    def common(self):
        """The fields every order response shares after `clientOrderId` (rest-api.md "Response - RESULT")."""
        out = {"price": f8(self.price), "origQty": f8(self.orig_qty), "executedQty": f8(self.executed),
               "origQuoteOrderQty": f8(self.orig_quote_qty), "cummulativeQuoteQty": f8(self.cum_quote),
               "status": self.status, "timeInForce": self.tif, "type": self.type, "side": self.side}
        return out

    def conditional(self, out):
        """Conditional fields (rest-api.md "Conditional fields in Order Responses")."""
        if self.strategy_id is not None:
            out["strategyId"] = self.strategy_id
        if self.strategy_type is not None:
            out["strategyType"] = self.strategy_type
        if self.status == "EXPIRED" and self.expiry_reason:
            out["expiryReason"] = self.expiry_reason
        return out

    def ack(self, transact_time):
        return {"symbol": self.symbol, "orderId": self.order_id, "orderListId": -1,
                "clientOrderId": self.client_order_id, "transactTime": transact_time}

    def result(self, transact_time):
        out = self.ack(transact_time)
        out.update(self.common())
        out["workingTime"] = self.time
        out["selfTradePreventionMode"] = self.stp
        return self.conditional(out)

    def query(self):
        """As GET /api/v3/order and /openOrders answer (rest-api.md "Query order")."""
        out = {"symbol": self.symbol, "orderId": self.order_id, "orderListId": -1, "clientOrderId": self.client_order_id}
        out.update(self.common())
        out.update({"stopPrice": f8(0), "icebergQty": f8(0), "time": self.time, "updateTime": self.update_time,
                    "isWorking": True, "workingTime": self.time, "origQuoteOrderQty": f8(self.orig_quote_qty),
                    "selfTradePreventionMode": self.stp})
        return self.conditional(out)

    def canceled(self, cancel_client_id, transact_time):
        """As DELETE /api/v3/order answers (rest-api.md "Cancel order")."""
        out = {"symbol": self.symbol, "origClientOrderId": self.client_order_id, "orderId": self.order_id,
               "orderListId": -1, "clientOrderId": cancel_client_id, "transactTime": transact_time}
        out.update(self.common())
        out["selfTradePreventionMode"] = self.stp
        return self.conditional(out)

    def witness(self):
        """As GET /fake/orders shows it: the order and every execution it had."""
        out = self.query()
        out["via"] = self.via
        out["executions"] = [dict(t.fill(), time=t.time, isMaker=t.is_maker, quoteQty=f8(t.quote_qty)) for t in self.trades]
        return out


def generated_client_id(seed):
    """A 22-character id like Binance's auto-generated ones, deterministic for `seed`."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    out = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        out.append(alphabet[digit])
    return "".join(out)


class Engine:
    def __init__(self, clock, symbol_names, balances, sink):
        self.clock = clock
        self.sink = sink  # .user(event) for user data, .stream(name, data) for market streams
        self.symbols = {name: Symbol.make(name) for name in symbol_names}
        self.balances = {}
        for symbol in self.symbols.values():
            self._balance(symbol.base), self._balance(symbol.quote)
        for asset, amount in balances.items():
            self._balance(asset)[0] = Decimal(amount)
        self.orders = []
        # The orders that may still be open: every open order and some that no longer are, pruned at each look. An
        # order's status only ever moves away from OPEN, so none is lost. Scanning every order ever placed (here and
        # in `find_order`) made each new order and each look-up slower than the last (a benchmark's thousands of
        # orders doubled the fake's answer time).
        self.working = []
        self.by_id = {}
        self.by_client = {}  # (symbol, client order id) → the latest order placed with it
        self.trades = {name: [] for name in self.symbols}
        self.commission_mode = "quote"
        self.commission_rate = Decimal("0.001")
        # Per symbol, a special commission on top of the standard one (commission_faq.md), charged and reported.
        self.special_commission = {}
        self.bnb_price = Decimal("600")
        self.partial_parts = 1
        self.execution_id = 0
        self.generated_ids = 0
        self.account_update_time = clock.now_ms()
        self._touched = set()

    # ----- lookups

    def symbol(self, name):
        symbol = self.symbols.get(name)
        if symbol is None:
            raise errors.bad_symbol()
        return symbol

    def _balance(self, asset):
        return self.balances.setdefault(asset, [ZERO, ZERO])

    def open_orders(self, symbol=None):
        self.working = [o for o in self.working if o.status in OPEN]
        return [o for o in self.working if symbol is None or o.symbol == symbol]

    def find_order(self, symbol, order_id=None, client_id=None):
        """The order by id, else by client id (the latest with it); None when there is none."""
        if order_id is not None:
            return self.by_id.get((symbol, order_id))
        return self.by_client.get((symbol, client_id))

    def new_client_id(self, kind):
        self.generated_ids += 1
        return generated_client_id(f"{kind}-{self.generated_ids}")

    # ----- filters (filters.md), checked before an order reaches the engine (-1013, errors.md "Filter failures")

    def market_quantity(self, symbol, side, quote_qty):
        """A MARKET order's quantity from `quoteOrderQty` at the current best price, on LOT_SIZE's step."""
        price = symbol.ask if side == "BUY" else symbol.bid
        return floor_to_step(quote_qty / price, symbol.step)

    def check_filters(self, symbol, order_type, price, qty):
        if order_type != "MARKET":
            if price < symbol.min_price or price > symbol.max_price or price % symbol.tick != 0:
                raise errors.filter_failure("PRICE_FILTER")
        if qty < symbol.min_qty or qty > symbol.max_qty or qty % symbol.step != 0:
            raise errors.filter_failure("LOT_SIZE")
        if order_type == "MARKET" and qty > symbol.market_max_qty:
            raise errors.filter_failure("MARKET_LOT_SIZE")
        # NOTIONAL: MARKET orders are valued at the last price (avgPriceMins is shown as 5 but not averaged).
        notional = (symbol.last if order_type == "MARKET" else price) * qty
        if notional < symbol.min_notional or (order_type != "MARKET" and notional > symbol.max_notional):
            raise errors.filter_failure("NOTIONAL")
        if len(self.open_orders(symbol.name)) >= MAX_NUM_ORDERS:
            raise errors.filter_failure("MAX_NUM_ORDERS")

    # ----- placing

    def _crosses(self, symbol, side, price):
        return symbol.ask <= price if side == "BUY" else symbol.bid >= price

    def _lock_terms(self, symbol, side, price):
        """What an order locks per unit of quantity: a buy locks price x quantity of quote, a sell the base."""
        return (symbol.quote, price) if side == "BUY" else (symbol.base, Decimal(1))

    def _headroom(self, side):
        """A buy must also afford a commission charged in the quote asset (the default mode here)."""
        return Decimal(1) if side == "SELL" or self.commission_mode == "base" else 1 + self.commission_rate

    def place(self, symbol, side, order_type, tif, qty, price, quote_qty, client_id, stp, via, flags,
              strategy_id=None, strategy_type=None):
        """A new order, matched at once; returns (order, trades made now). Raises -2010 as the engine would."""
        if any(o.client_order_id == client_id and o.symbol == symbol.name for o in self.open_orders()):
            raise errors.order_rejected("Duplicate order sent.")
        if order_type == "LIMIT_MAKER" and self._crosses(symbol, side, price):
            raise errors.order_rejected("Order would immediately match and take.")
        lock_price = price if order_type != "MARKET" else (symbol.ask if side == "BUY" else symbol.bid)
        lock_asset, lock_unit = self._lock_terms(symbol, side, lock_price)
        need = (qty * lock_unit).quantize(Decimal("0.00000001"), rounding=ROUND_UP)
        if self._balance(lock_asset)[0] < need * self._headroom(side):
            raise errors.order_rejected("Account has insufficient balance for requested action.")
        now = self.clock.now_ms()
        order = Order(symbol=symbol.name, order_id=symbol.next_order_id, client_order_id=client_id, side=side,
                      type=order_type, tif=tif, price=price if order_type != "MARKET" else ZERO, orig_qty=qty,
                      orig_quote_qty=quote_qty or ZERO, stp=stp, time=now, update_time=now, via=via,
                      lock_asset=lock_asset, lock_unit=lock_unit, duplicate_fills=flags.get("duplicate", False),
                      reverse_fills=flags.get("reverse", False), strategy_id=strategy_id, strategy_type=strategy_type)
        symbol.next_order_id += 1
        self.orders.append(order)
        self.working.append(order)
        self.by_id[(symbol.name, order.order_id)] = order
        self.by_client[(symbol.name, order.client_order_id)] = order
        self._lock(order, need)
        self._report(order, "NEW")
        made = []
        self._match_new(symbol, order, made)
        self._emit_account()
        return order, made

    def _lock(self, order, amount):
        balance = self._balance(order.lock_asset)
        balance[0] -= amount
        balance[1] += amount
        order.locked += amount
        self._touch(order.lock_asset)

    def _unlock(self, order, amount):
        amount = min(amount, order.locked)
        balance = self._balance(order.lock_asset)
        balance[1] -= amount
        balance[0] += amount
        order.locked -= amount
        self._touch(order.lock_asset)

    def _match_new(self, symbol, order, made):
        """What a new order does at once (enums.md "Time in force", rest-api.md "New order")."""
        if order.type == "MARKET":
            price = symbol.ask if order.side == "BUY" else symbol.bid
            parts = split_quantity(order.orig_qty, self.partial_parts, symbol.step)
            self._fill(symbol, order, parts[0], price, False, made)
            order.pending_parts = parts[1:]
            if not order.pending_parts:
                self._finish(order)
            return
        crosses = order.type == "LIMIT" and self._crosses(symbol, order.side, order.price)
        if crosses and order.tif in ("IOC", "FOK"):
            # The book here is its best level: an IOC takes what that level holds and expires the rest; a FOK that
            # level cannot fill whole expires unfilled (enums.md: EXPIRED for "LIMIT FOK orders with no fill, LIMIT
            # IOC or MARKET orders that partially fill").
            price = symbol.ask if order.side == "BUY" else symbol.bid
            level = symbol.ask_qty if order.side == "BUY" else symbol.bid_qty
            take = min(order.orig_qty, floor_to_step(level, symbol.step))
            if order.tif == "FOK" and take < order.orig_qty:
                self._end(order, "EXPIRED", "UNFILLED_FOK_ORDER_EXPIRED")
                return
            if take > 0:
                self._fill(symbol, order, take, price, False, made)
            if order.executed < order.orig_qty:
                self._end(order, "EXPIRED", "UNFILLED_IOC_QUANTITY_EXPIRED")
            else:
                self._finish(order)
            return
        if crosses:
            price = symbol.ask if order.side == "BUY" else symbol.bid
            self._fill(symbol, order, order.orig_qty, price, False, made)
            self._finish(order)
            return
        if order.type == "LIMIT" and order.tif in ("IOC", "FOK"):
            # Nothing to match: IOC/FOK expire (enums.md "Order Expiry Reasons").
            reason = "UNFILLED_IOC_QUANTITY_EXPIRED" if order.tif == "IOC" else "UNFILLED_FOK_ORDER_EXPIRED"
            self._end(order, "EXPIRED", reason)
        # else GTC LIMIT / LIMIT_MAKER rests on the book as NEW.

    # ----- fills

    def rate_of(self, symbol_name):
        """The commission rate a trade in the symbol pays: the standard one plus the symbol's special one."""
        return self.commission_rate + self.special_commission.get(symbol_name, ZERO)

    def _commission(self, symbol, side, qty, quote_qty):
        """(asset, amount) of one trade's commission, per the mode POST /fake/commission sets. Called after the
        trade's own balance moves; an asset that cannot pay falls back to the one the trade brought in."""
        rate = self.rate_of(symbol.name)
        received = (symbol.base, q8(qty * rate)) if side == "BUY" else (symbol.quote, q8(quote_qty * rate))
        if self.commission_mode == "base":
            return received if side == "BUY" else (symbol.quote, q8(quote_qty * rate))
        if self.commission_mode == "BNB":
            amount = q8(quote_qty * rate / self._bnb_price(symbol.quote))
            return ("BNB", amount) if self._balance("BNB")[0] >= amount else received
        amount = q8(quote_qty * rate)
        return (symbol.quote, amount) if self._balance(symbol.quote)[0] >= amount else received

    def _bnb_price(self, quote):
        if quote == "BNB":
            return Decimal(1)
        pair = self.symbols.get("BNB" + quote)
        return pair.last if pair else self.bnb_price

    def _fill(self, symbol, order, qty, price, maker, made):
        quote_qty = price * qty
        base, quote = self._balance(symbol.base), self._balance(symbol.quote)
        if order.side == "BUY":
            self._unlock(order, (qty * order.lock_unit).quantize(Decimal("0.00000001"), rounding=ROUND_UP))
            quote[0] -= quote_qty
            base[0] += qty
        else:
            self._unlock(order, qty)
            base[0] -= qty
            quote[0] += quote_qty
        asset, commission = self._commission(symbol, order.side, qty, quote_qty)
        self._balance(asset)[0] -= commission
        self._touch(symbol.base, symbol.quote, asset)
        now = self.clock.now_ms()
        trade = Trade(id=symbol.next_trade_id, symbol=symbol.name, order_id=order.order_id, price=price, qty=qty,
                      quote_qty=quote_qty, commission=commission, commission_asset=asset, time=now,
                      is_buyer=order.side == "BUY", is_maker=maker)
        symbol.next_trade_id += 1
        symbol.last = price
        self.trades[symbol.name].append(trade)
        order.trades.append(trade)
        made.append(trade)
        order.executed += qty
        order.cum_quote += quote_qty
        order.update_time = now
        order.status = "FILLED" if order.executed >= order.orig_qty else "PARTIALLY_FILLED"
        self._report(order, "TRADE", trade=trade)
        # web-socket-streams.md "Trade Streams": m = is the buyer the market maker?
        self.sink.stream(f"{symbol.name.lower()}@trade", {
            "e": "trade", "E": now, "s": symbol.name, "t": trade.id, "p": f8(price), "q": f8(qty), "T": now,
            "m": (order.side == "BUY") == maker, "M": True})

    def _finish(self, order):
        """After an order's last fill: release what it still locks, send any held fill events."""
        self._unlock(order, order.locked)
        self._flush_held(order)

    def _end(self, order, status, reason="", cancel_client_id=None):
        """An order leaves the book unfilled (CANCELED / EXPIRED)."""
        order.status = status
        order.expiry_reason = reason
        order.pending_parts = []
        order.update_time = self.clock.now_ms()
        self._unlock(order, order.locked)
        self._flush_held(order)
        self._report(order, status, cancel_client_id=cancel_client_id)

    # ----- market moves and the partial-fill switch

    def set_price(self, symbol, bid, ask, bid_qty=None, ask_qty=None, last=None):
        """Moves the best bid/ask: emits a bookTicker, then fills every resting order the move crosses."""
        symbol.bid, symbol.ask = bid, ask
        if bid_qty is not None:
            symbol.bid_qty = bid_qty
        if ask_qty is not None:
            symbol.ask_qty = ask_qty
        symbol.last = last if last is not None else bid
        symbol.update_id += 1
        self.sink.stream(f"{symbol.name.lower()}@bookTicker", symbol.book_ticker())
        made = []
        for order in self.open_orders(symbol.name):
            if order.on_book() and self._crosses(symbol, order.side, order.price):
                self._fill(symbol, order, order.orig_qty - order.executed, order.price, True, made)
                self._finish(order)
        self._emit_account()
        return made

    def advance(self):
        """Delivers the next part of every partially filled MARKET order (POST /fake/advance)."""
        made = []
        for order in [o for o in self.open_orders() if o.pending_parts]:
            symbol = self.symbols[order.symbol]
            part = order.pending_parts.pop(0)
            price = symbol.ask if order.side == "BUY" else symbol.bid
            if not self._can_pay(symbol, order, part, price):
                self._end(order, "EXPIRED", "INSUFFICIENT_LIQUIDITY")
                continue
            self._fill(symbol, order, part, price, False, made)
            if not order.pending_parts:
                self._finish(order)
        self._emit_account()
        return made

    def _can_pay(self, symbol, order, qty, price):
        if order.side == "SELL":
            return True
        cost = price * qty * (1 + self.rate_of(symbol.name))
        release = min(order.locked, qty * order.lock_unit)
        return self._balance(symbol.quote)[0] + release >= cost

    # ----- cancel

    def cancel(self, order, cancel_client_id, restriction=None):
        """DELETE /api/v3/order on the engine: -2011 unless the order is still working."""
        if order.status not in OPEN:
            raise errors.cancel_rejected("Unknown order sent.")
        if restriction == "ONLY_NEW" and order.status != "NEW" or \
                restriction == "ONLY_PARTIALLY_FILLED" and order.status != "PARTIALLY_FILLED":
            raise errors.cancel_rejected("Order was not canceled due to cancel restrictions.")
        self._end(order, "CANCELED", cancel_client_id=cancel_client_id)
        self._emit_account()

    # ----- user data events (user-data-stream.md)

    def _report(self, order, exec_type, trade=None, cancel_client_id=None):
        """An `executionReport` (user-data-stream.md "Order Update"), snapshot of the order now."""
        now = self.clock.now_ms()
        self.execution_id += 1
        event = {
            "e": "executionReport", "E": now, "s": order.symbol,
            "c": cancel_client_id or order.client_order_id, "S": order.side, "o": order.type, "f": order.tif,
            "q": f8(order.orig_qty), "p": f8(order.price), "P": f8(0), "F": f8(0), "g": -1,
            "C": order.client_order_id if cancel_client_id else "", "x": exec_type, "X": order.status, "r": "NONE",
            "i": order.order_id, "l": f8(trade.qty if trade else 0), "z": f8(order.executed),
            "L": f8(trade.price if trade else 0), "n": f8(trade.commission) if trade else "0",
            "N": trade.commission_asset if trade else None, "T": trade.time if trade else now,
            "t": trade.id if trade else -1, "I": self.execution_id, "w": order.on_book(),
            "m": trade.is_maker if trade else False, "M": False, "O": order.time, "Z": f8(order.cum_quote),
            "Y": f8(trade.quote_qty if trade else 0), "Q": f8(order.orig_quote_qty), "W": order.time, "V": order.stp,
        }
        if order.strategy_id is not None:
            event["j"] = order.strategy_id
        if order.strategy_type is not None:
            event["J"] = order.strategy_type
        if order.status == "EXPIRED" and order.expiry_reason:
            event["eR"] = order.expiry_reason
        if trade is not None and order.reverse_fills:
            order.held.append(event)  # out_of_order_fill_events: sent last-first when the order is done
            return
        self._send_fill_event(order, event, trade is not None)

    def _send_fill_event(self, order, event, is_trade):
        self.sink.user(event)
        if is_trade and order.duplicate_fills:
            self.sink.user(event)  # duplicate_fill_events

    def _flush_held(self, order):
        held, order.held = order.held, []
        for event in reversed(held):
            self._send_fill_event(order, event, True)

    def _touch(self, *assets):
        self._touched.update(assets)

    def _emit_account(self):
        """One `outboundAccountPosition` with the assets the last engine step changed (user-data-stream.md)."""
        if not self._touched:
            return
        now = self.clock.now_ms()
        self.account_update_time = now
        assets = sorted(self._touched)
        self._touched = set()
        self.sink.user({"e": "outboundAccountPosition", "E": now, "u": now, "B": [
            {"a": a, "f": f8(self.balances[a][0]), "l": f8(self.balances[a][1])} for a in assets]})

    # ----- control

    def reset_touched(self):
        self._touched = set()


def split_quantity(qty, parts, step):
    """`qty` in `parts` equal-ish pieces on `step`, the last taking the rest."""
    if parts <= 1:
        return [qty]
    piece = floor_to_step(qty / parts, step if step else Decimal("0.00000001"))
    if piece <= 0:
        return [qty]
    return [piece] * (parts - 1) + [qty - piece * (parts - 1)]
