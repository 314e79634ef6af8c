"""The WebSocket API at /ws-api/v3 (web-socket-api.md): requests `{"id","method","params"}`, responses
`{"id","status","result"|"error","rateLimits"}`, session logon and User Data Stream subscriptions."""
import asyncio
import json
import logging

from aiohttp import WSMsgType, web

from . import errors, security
from .endpoints import ENDPOINTS
from .hub import Connection
from .util import Params, to_param_text

log = logging.getLogger("fake_binance")
BY_METHOD = {e.ws_method: e for e in ENDPOINTS if e.ws_method}
SESSION_WEIGHT = 2  # session.* and userDataStream.* all weigh 2
CONNECT_WEIGHT = 2  # web-socket-api.md "IP limits": "Connecting to WebSocket API costs 2 weight."


async def handle(request):
    fake = request.app["fake"]
    entry = fake.log_request("ws-api", "GET", request.path, dict(request.query))
    try:
        fake.limits.gate(fake.clock.now_ms())
        fake.limits.charge(CONNECT_WEIGHT, fake.clock.now_ms())
    except errors.ApiError as error:
        fake.answered(entry, error.status, error.code)
        return web.json_response(error.body(), status=error.status, headers=error.headers)
    ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 20)
    await ws.prepare(request)
    fake.answered(entry, 101)
    conn = Connection(ws, request, "ws-api", fake.clock.now_ms())
    conn.return_rate_limits = request.query.get("returnRateLimits", "true").lower() != "false"
    fake.hub.add(conn)
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                # Each request runs on its own, so a held answer does not stop pongs or other requests.
                task = asyncio.get_running_loop().create_task(Session(fake, conn).answer(message.data))
                conn.tasks.append(task)
            elif message.type == WSMsgType.PING:
                await ws.pong(message.data)
            elif message.type == WSMsgType.PONG:
                conn.pong_received(message.data)
            elif message.type == WSMsgType.BINARY:
                conn.send({"id": None, "status": 400, "error": errors.invalid_json().body()})
    finally:
        fake.hub.remove(conn)
    return ws


class Session:
    """One request on a WebSocket API connection."""

    def __init__(self, fake, conn):
        self.fake, self.conn = fake, conn
        self.request_id = None
        self.with_orders = False
        self.return_rate_limits = conn.return_rate_limits

    async def answer(self, text):
        try:
            request = json.loads(text)
            if not isinstance(request, dict) or not isinstance(request.get("method"), str) or \
                    not isinstance(request.get("params", {}), dict):
                raise ValueError
        except ValueError:
            self.conn.send({"id": None, "status": 400, "error": errors.invalid_json().body()})
            return
        self.request_id = request.get("id")
        method = request["method"].removeprefix("v3/")  # "may be prefixed with explicit version"
        params = dict(request.get("params") or {})
        if "returnRateLimits" in params:
            self.return_rate_limits = to_param_text(params.pop("returnRateLimits")).lower() != "false"
        entry = self.fake.log_request("ws-api", method, "/ws-api/v3", {k: to_param_text(v) for k, v in params.items()})
        entry["id"] = self.request_id
        try:
            self.fake.limits.gate(self.fake.clock.now_ms())
            self._misbehave_any()
            result, executed = await self._dispatch(method, params, entry)
            self.fake.answered(entry, 200, None, executed)
            self._respond({"result": result})
        except errors.ApiError as error:
            self.fake.answered(entry, error.status, error.code, entry["executed"])
            self._respond_error(error)
            if error.status == 418:  # web-socket-api.md "IP limits": "... an automated IP ban and you will be disconnected"
                self.conn.close_after_flush(1008, b"banned")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("unexpected failure in WebSocket API %s", method)
            self.fake.answered(entry, 500, -1000)
            self._respond_error(errors.unknown())

    def _misbehave_any(self):
        now = self.fake.clock.now_ms()
        options = self.fake.behaviours.take("reject_429")
        if options is not None:
            raise self.fake.limits.too_many(errors.too_much_weight(self.fake.limits.weight.limit),
                                            int(options.get("retryAfter", 10)), now)
        options = self.fake.behaviours.take("ban_418")
        if options is not None:
            raise self.fake.limits.ban(float(options.get("retryAfter", 120)), now)

    async def _dispatch(self, method, params, entry):
        session_methods = {
            "session.logon": self.logon, "session.status": self.status, "session.logout": self.logout,
            "session.subscriptions": self.subscriptions, "userDataStream.subscribe": self.subscribe,
            "userDataStream.subscribe.signature": self.subscribe_signature,
            "userDataStream.unsubscribe": self.unsubscribe,
        }
        if method in session_methods:
            self.fake.limits.charge(SESSION_WEIGHT, self.fake.clock.now_ms())
            return session_methods[method](params), False
        endpoint = BY_METHOD.get(method)
        if endpoint is None:
            raise errors.unsupported_operation()
        return await self._endpoint(endpoint, params, entry)

    async def _endpoint(self, endpoint, params, entry):
        values = {k: to_param_text(v) for k, v in params.items()}
        if endpoint.order and self.fake.behaviours.take("order_5xx_before_execute") is not None:
            raise errors.server_busy(503)
        weight = endpoint.weight_of(values)
        self.fake.limits.charge(weight, self.fake.clock.now_ms())
        if endpoint.signed:
            self._authenticate(params, values)
            allowed = set(endpoint.params) | {"apiKey"}
            unknown = [name for name in values if name not in allowed]
            if unknown:
                raise errors.unread(len(values) - len(unknown), len(values))
            values.pop("apiKey", None)
        ctx = {"via": "ws-api", "executed": False, "flags": {}}
        if endpoint.order:
            self.with_orders = True
            if self.fake.behaviours.take("duplicate_fill_events") is not None:
                ctx["flags"]["duplicate"] = True
            if self.fake.behaviours.take("out_of_order_fill_events") is not None:
                ctx["flags"]["reverse"] = True
        result = endpoint.handler(self.fake, Params(values), ctx)
        if endpoint.zero_on_success:
            self.fake.limits.refund(weight)
        if ctx["executed"]:
            entry["executed"] = True
            await self._after_execute(entry)
        return result, ctx["executed"]

    async def _after_execute(self, entry):
        options = self.fake.behaviours.take("order_5xx_after_execute")
        if options is not None:
            maker = errors.SERVER_ERRORS.get(int(options.get("code", -1007)), errors.timeout)
            raise maker(int(options.get("status", 503)))
        options = self.fake.behaviours.take("order_timeout_after_execute")
        if options is None:
            return
        if not options.get("close"):
            await self.fake.hold(float(options.get("seconds", 30)))
        if options.get("close") or self.fake.stopping.is_set():  # no answer at all
            entry["closed"] = True
            self.fake.answered(entry, None, None, True)
            self.conn.abort()
            raise asyncio.CancelledError()

    # ----- request security (web-socket-api.md "SIGNED request security", "Session Authentication")

    def _authenticate(self, params, values):
        """apiKey + signature in the params, or an Ed25519 session from session.logon; timestamp always."""
        p = Params(values)
        signed_here = "apiKey" in params or "signature" in params or self.conn.session_key is None
        if signed_here:
            self.fake.keys.check_api_key(p.string("apiKey", required=True))
        timestamp = p.long("timestamp", required=True)
        recv_window = p.recv_window()
        if signed_here:
            signature = p.string("signature", required=True)
            if not self.fake.keys.verify(security.ws_payload(params), signature):
                raise errors.bad_signature()
        security.check_timing(timestamp, recv_window, self.fake.clock.now_ms())

    def _signed_by(self, params, ed25519_only):
        allowed = {"apiKey", "timestamp", "signature", "recvWindow"}
        values = {k: to_param_text(v) for k, v in params.items()}
        unknown = [name for name in values if name not in allowed]
        if unknown:
            raise errors.unread(len(values) - len(unknown), len(values))
        p = Params(values)
        api_key = p.string("apiKey", required=True)
        timestamp = p.long("timestamp", required=True)
        recv_window = p.recv_window()
        signature = p.string("signature", required=True)
        self.fake.keys.check_api_key(api_key)
        payload = security.ws_payload(params)
        ok = self.fake.keys.verify_ed25519(payload, signature) if ed25519_only else self.fake.keys.verify(payload, signature)
        if not ok:
            raise errors.bad_signature()
        security.check_timing(timestamp, recv_window, self.fake.clock.now_ms())
        return api_key

    # ----- session.* (web-socket-api.md "Authentication requests")

    def _session_result(self):
        return {"apiKey": self.conn.session_key, "authorizedSince": self.conn.authorized_since,
                "connectedSince": self.conn.connected_ms, "returnRateLimits": self.conn.return_rate_limits,
                "serverTime": self.fake.clock.now_ms(), "userDataStream": bool(self.conn.subscriptions)}

    def logon(self, params):
        """session.logon: Ed25519 keys only ("Only Ed25519 keys are supported for this feature")."""
        self.conn.session_key = self._signed_by(params, ed25519_only=True)
        self.conn.authorized_since = self.fake.clock.now_ms()
        return self._session_result()

    def status(self, params):
        return self._session_result()

    def logout(self, params):
        """session.logout also ends the userDataStream.subscribe subscription (user-data-stream.md)."""
        for subscription_id, kind in list(self.conn.subscriptions.items()):
            if kind == "logon":
                self._terminate(subscription_id)
        self.conn.session_key = self.conn.authorized_since = None
        return self._session_result()

    # ----- userDataStream.* (web-socket-api.md "User Data Stream requests")

    def subscriptions(self, params):
        return [{"subscriptionId": s} for s in sorted(self.conn.subscriptions)]

    def _start(self, kind):
        if self.conn.subscriptions:  # "only one active subscription for a given account on a given connection"
            raise errors.subscription_active()
        subscription_id = self.conn.next_subscription_id
        self.conn.next_subscription_id += 1
        self.conn.subscriptions[subscription_id] = kind
        return {"subscriptionId": subscription_id}

    def subscribe(self, params):
        """Needs a session.logon'd (Ed25519) connection; the docs give no error code for its absence: -1002 here."""
        if self.conn.session_key is None:
            raise errors.unauthorized()
        return self._start("logon")

    def subscribe_signature(self, params):
        self._signed_by(params, ed25519_only=False)
        return self._start("signature")

    def unsubscribe(self, params):
        values = {k: to_param_text(v) for k, v in params.items()}
        subscription_id = Params(values).long("subscriptionId")
        if subscription_id is None:
            for existing in list(self.conn.subscriptions):
                self._terminate(existing)
            return {}
        if subscription_id not in self.conn.subscriptions:
            raise errors.subscription_inactive()
        self._terminate(subscription_id)
        return {}

    def _terminate(self, subscription_id):
        """user-data-stream.md "Event Stream Terminated"."""
        self.conn.send({"subscriptionId": subscription_id,
                        "event": {"e": "eventStreamTerminated", "E": self.fake.clock.now_ms()}})
        del self.conn.subscriptions[subscription_id]

    # ----- responses (web-socket-api.md "Response format")

    def _respond(self, body):
        out = {"id": self.request_id, "status": 200}
        out.update(body)
        if self.return_rate_limits:
            out["rateLimits"] = self.fake.limits.ws_rate_limits(self.with_orders)
        self.conn.send(out)

    def _respond_error(self, error):
        body = error.body()
        if error.data is not None:
            body["data"] = error.data
        out = {"id": self.request_id, "status": error.status, "error": body}
        if self.return_rate_limits:
            out["rateLimits"] = self.fake.limits.ws_rate_limits(self.with_orders)
        self.conn.send(out)
