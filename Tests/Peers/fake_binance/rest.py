"""The REST API: one aiohttp handler for every /api/... request (rest-api.md)."""
import asyncio
import json
import logging
import time
from urllib.parse import parse_qsl

from aiohttp import web

from . import errors, security
from .endpoints import ENDPOINTS
from .util import Params

log = logging.getLogger("fake_binance")
ROUTES = {(e.method, e.path): e for e in ENDPOINTS}
FORM = "application/x-www-form-urlencoded"


def _json(body, status=200, headers=None):
    return web.Response(text=json.dumps(body, separators=(",", ":")), status=status, headers=headers or {},
                        content_type="application/json")


def _pairs(raw):
    return parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="replace")


def _merge(query_pairs, body_pairs):
    """rest-api.md "General Information on Endpoints": query and body may be mixed; the query string wins.
    The same name twice in one of them: -1101 (errors.md)."""
    duplicate = any(len({n for n, _ in pairs}) != len(pairs) for pairs in (query_pairs, body_pairs))
    merged = dict(body_pairs)
    merged.update(dict(query_pairs))
    return merged, duplicate


class RestCall:
    """One REST request on its way through the checks Binance makes, in order."""

    def __init__(self, fake, request):
        self.fake, self.request = fake, request
        self.headers = {}
        self.entry = None
        self.weight = 0

    async def run(self):
        request = self.request
        raw_query = request.raw_path.partition("?")[2]
        head_at = time.monotonic()
        on_head = self.fake.behaviours.take("order_answered_on_head") \
            if (request.method, request.path) == ("POST", "/api/v3/order") and request.body_exists else None
        if on_head is not None:
            # A front end refusing the request on its head, before its body (the order's parameters) has come.
            self.entry = self.fake.log_request("rest", request.method, request.path, {})
            self.entry["answeredOnHead"] = True
            if int(on_head.get("status", 503)) == 429:
                return self._error(self.fake.limits.too_many(errors.too_much_weight(self.fake.limits.weight.limit),
                                                             int(on_head.get("retryAfter", 10)), self.fake.clock.now_ms()))
            return self._error(errors.server_busy(int(on_head.get("status", 503))))
        body = await request.read()
        is_form = request.method != "GET" and request.content_type == FORM
        raw_body = body.decode("utf-8", "replace") if is_form else ""
        values, duplicate = _merge(_pairs(raw_query), _pairs(raw_body))
        self.entry = self.fake.log_request("rest", request.method, request.path, values)
        # Where the parameters came, and how long the body came after the head (a client may send the head early).
        self.entry["formBody"] = bool(raw_body)
        self.entry["bodyAfterHeadMs"] = round((time.monotonic() - head_at) * 1000, 1)
        endpoint = ROUTES.get((request.method, request.path))
        try:
            self.fake.limits.gate(self.fake.clock.now_ms())
            self._misbehave_any()
            if endpoint is None:
                return self._finish(web.Response(status=404, text="Not Found"), 404)
            if endpoint.order and self.fake.behaviours.take("order_5xx_before_execute") is not None:
                raise errors.server_busy(503)  # nothing executed
            if request.path == "/api/v3/ticker/price" and self.fake.behaviours.take("ticker_5xx") is not None:
                raise errors.server_busy(503)
            self.weight = endpoint.weight_of(values)
            self.fake.limits.charge(self.weight, self.fake.clock.now_ms())
            if duplicate:
                raise errors.duplicate_param()
            if endpoint.signed:
                self._authenticate(values, raw_query, raw_body)
                unknown = [name for name in values if name not in endpoint.params]
                if unknown:
                    raise errors.unread(len(values) - len(unknown), len(values))
            ctx = {"via": "rest", "executed": False, "flags": self._fill_flags() if endpoint.order else {}}
            later = self.fake.behaviours.take("order_1007_execute_later") if endpoint.order else None
            if later is not None:
                self.fake.execute_later(float(later.get("seconds", 5)), bool(later.get("dropStreams")),
                                        lambda: endpoint.handler(self.fake, Params(values), ctx))
                raise errors.timeout(int(later.get("status", 503)))
            result = endpoint.handler(self.fake, Params(values), ctx)
            if endpoint.zero_on_success:
                self.fake.limits.refund(self.weight)
            if endpoint.order:
                ten, day = self.fake.limits.order_counts()
                self.headers.update({"X-MBX-ORDER-COUNT-10S": str(ten), "X-MBX-ORDER-COUNT-1D": str(day)})
            if ctx["executed"]:
                self.entry["executed"] = True
                after = await self._after_execute()
                if after is not None:
                    return after
            return self._finish(_json(result, headers=self._with_weight()), 200)
        except errors.ApiError as error:
            return self._error(error)
        except Exception:  # never a traceback to the client: -1000 (errors.md)
            log.exception("unexpected failure in %s %s", request.method, request.path)
            return self._error(errors.unknown())

    def _fill_flags(self):
        """duplicate_fill_events / out_of_order_fill_events for the order about to be placed."""
        flags = {}
        if self.fake.behaviours.take("duplicate_fill_events") is not None:
            flags["duplicate"] = True
        if self.fake.behaviours.take("out_of_order_fill_events") is not None:
            flags["reverse"] = True
        return flags

    def _misbehave_any(self):
        """reject_429 / ban_418: whatever the request."""
        now = self.fake.clock.now_ms()
        options = self.fake.behaviours.take("reject_429")
        if options is not None:
            raise self.fake.limits.too_many(errors.too_much_weight(self.fake.limits.weight.limit),
                                            int(options.get("retryAfter", 10)), now)
        options = self.fake.behaviours.take("ban_418")
        if options is not None:
            raise self.fake.limits.ban(float(options.get("retryAfter", 120)), now)

    def _authenticate(self, values, raw_query, raw_body):
        """rest-api.md "SIGNED Endpoint security" and "Timing security"."""
        self.fake.keys.check_api_key(self.request.headers.get("X-MBX-APIKEY"))
        params = Params(values)
        timestamp = params.long("timestamp", required=True)
        recv_window = params.recv_window()
        signature = params.string("signature", required=True)
        if not self.fake.keys.verify(security.rest_payload(raw_query, raw_body), signature):
            raise errors.bad_signature()
        security.check_timing(timestamp, recv_window, self.fake.clock.now_ms())

    async def _after_execute(self):
        """order_5xx_after_execute / order_timeout_after_execute: the order exists, the answer goes wrong."""
        options = self.fake.behaviours.take("order_5xx_after_execute")
        if options is not None:
            maker = errors.SERVER_ERRORS.get(int(options.get("code", -1007)), errors.timeout)
            return self._error(maker(int(options.get("status", 503))))
        options = self.fake.behaviours.take("order_timeout_after_execute")
        if options is None:
            return None
        if not options.get("close"):
            await self.fake.hold(float(options.get("seconds", 30)))
        if options.get("close") or self.fake.stopping.is_set():  # no answer at all
            self.fake.answered(self.entry, None, None, True)
            self.entry["closed"] = True
            if self.request.transport is not None:
                self.request.transport.abort()
            raise asyncio.CancelledError()
        return None

    def _with_weight(self, extra=None):
        headers = dict(self.headers)
        headers.update(extra or {})
        headers["X-MBX-USED-WEIGHT-1M"] = str(self.fake.limits.used_weight())  # rest-api.md "IP Limits"
        return headers

    def _error(self, error):
        return self._finish(_json(error.body(), error.status, self._with_weight(error.headers)), error.status, error.code)

    def _finish(self, response, status, code=None):
        self.fake.answered(self.entry, status, code)
        return response


async def handle(request):
    return await RestCall(request.app["fake"], request).run()
