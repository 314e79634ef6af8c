"""Rate limits (rest-api.md "LIMITS", web-socket-api.md "Rate limits"), IP bans and the misbehaviour switches."""
import math
import time

from . import errors

BAN_SECONDS = 120  # rest-api.md "IP Limits": bans scale "from 2 minutes to 3 days"


def _window_start(now, seconds):
    """Intervals are aligned: 1 MINUTE starts every minute, 10 SECOND at :00, :10 ... (web-socket-api.md)."""
    return now - (now % seconds)


class Counter:
    """A count in one fixed, aligned window of `seconds`."""

    def __init__(self, seconds, limit):
        self.seconds, self.limit = seconds, limit
        self.start, self.count = 0, 0

    def current(self, now):
        start = _window_start(now, self.seconds)
        if start != self.start:
            self.start, self.count = start, 0
        return self.count

    def retry_after(self, now):
        return max(1, math.ceil(self.start + self.seconds - now))


class Limits:
    """REQUEST_WEIGHT 6000/1m and ORDERS 50/10s, 160000/1d: the numbers web-socket-api.md and rest-api.md's
    "Query Unfilled Order Count" show today (settable by POST /fake/limits). Time here is the wall clock."""

    def __init__(self):
        self.weight = Counter(60, 6000)
        self.orders_10s = Counter(10, 50)
        self.orders_1d = Counter(86400, 160000)
        self.ban_seconds = BAN_SECONDS
        self.backoff_until = 0.0
        self.ban_until = 0.0

    def rate_limits_info(self):
        """exchangeInfo's `rateLimits` (enums.md "Rate limiters"; RAW_REQUESTS 300000/5m per CHANGELOG 2026-03-27)."""
        return [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": self.weight.limit},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": self.orders_10s.limit},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": self.orders_1d.limit},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300000},
        ]

    def ws_rate_limits(self, with_orders):
        """A WebSocket API response's `rateLimits` (web-socket-api.md "How to interpret rate limits")."""
        now = time.time()
        out = []
        if with_orders:
            out.append({"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
                        "limit": self.orders_10s.limit, "count": self.orders_10s.current(now)})
            out.append({"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
                        "limit": self.orders_1d.limit, "count": self.orders_1d.current(now)})
        out.append({"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                    "limit": self.weight.limit, "count": self.weight.current(now)})
        return out

    # ----- bans and back-offs

    def gate(self, server_ms):
        """Before anything else: 418 while banned; a request during a 429's Retry-After starts a ban."""
        now = time.time()
        if now < self.ban_until:
            raise self._ban_error(now, server_ms)
        if now < self.backoff_until:
            self.backoff_until = 0.0
            self.ban_until = now + self.ban_seconds
            raise self._ban_error(now, server_ms)

    def ban(self, seconds, server_ms):
        now = time.time()
        self.ban_until = now + seconds
        return self._ban_error(now, server_ms)

    def _ban_error(self, now, server_ms):
        remaining = self.ban_until - now
        until_ms = server_ms + int(remaining * 1000)
        error = errors.banned(until_ms)
        error.headers["Retry-After"] = str(max(1, math.ceil(remaining)))
        error.data = {"serverTime": server_ms, "retryAfter": until_ms}
        return error

    def too_many(self, error, retry_after, server_ms):
        """A 429: Retry-After seconds, and the back-off the gate enforces."""
        self.backoff_until = time.time() + retry_after
        error.headers["Retry-After"] = str(retry_after)
        error.data = {"serverTime": server_ms, "retryAfter": server_ms + retry_after * 1000}
        return error

    # ----- weight and order counts

    def used_weight(self):
        return self.weight.current(time.time())

    def charge(self, weight, server_ms):
        now = time.time()
        used = self.weight.current(now) + weight
        self.weight.count = used
        if used > self.weight.limit:
            raise self.too_many(errors.too_much_weight(self.weight.limit), self.weight.retry_after(now), server_ms)

    def refund(self, weight):
        self.weight.count = max(0, self.weight.count - weight)

    def check_orders(self, server_ms):
        now = time.time()
        for counter, interval in ((self.orders_10s, "10 SECOND"), (self.orders_1d, "1 DAY")):
            if counter.current(now) >= counter.limit:
                # rest-api.md "Unfilled Order Count": a 429 without Retry-After, counted per account: no IP back-off.
                raise errors.too_many_orders(counter.limit, interval)

    def count_order(self):
        now = time.time()
        for counter in (self.orders_10s, self.orders_1d):
            counter.count = counter.current(now) + 1

    def order_counts(self):
        now = time.time()
        return self.orders_10s.current(now), self.orders_1d.current(now)

    def set(self, weight1m=None, orders10s=None, orders1d=None, ban_seconds=None, reset=False):
        if weight1m is not None:
            self.weight.limit = int(weight1m)
        if orders10s is not None:
            self.orders_10s.limit = int(orders10s)
        if orders1d is not None:
            self.orders_1d.limit = int(orders1d)
        if ban_seconds is not None:
            self.ban_seconds = float(ban_seconds)
        if reset:
            for counter in (self.weight, self.orders_10s, self.orders_1d):
                counter.count = 0
            self.backoff_until = self.ban_until = 0.0


BEHAVIOURS = ("order_5xx_after_execute", "order_timeout_after_execute", "order_5xx_before_execute", "reject_429",
              "ban_418", "duplicate_fill_events", "out_of_order_fill_events", "drop_streams", "trades_lag",
              "short_fills", "order_1007_execute_later", "ticker_5xx", "order_answered_on_head")


class Behaviours:
    """The misbehaviour switches of POST /fake/behaviour: each applies to the next `count` matching requests."""

    def __init__(self):
        self.active = {}

    def arm(self, name, count, options):
        if count <= 0:
            self.active.pop(name, None)
        else:
            self.active[name] = {"count": count, "options": options}

    def take(self, name):
        """The options of `name` if it is armed (using up one of its count), else None."""
        entry = self.active.get(name)
        if entry is None:
            return None
        entry["count"] -= 1
        if entry["count"] <= 0:
            del self.active[name]
        return entry["options"]

    def describe(self):
        return {name: dict(entry) for name, entry in self.active.items()}
