"""WebSocket connections: ordered sending, server pings, market-stream and user-data fan-out."""
import asyncio
import json
import logging

log = logging.getLogger("fake_binance")


def dumps(value):
    return json.dumps(value, separators=(",", ":"))


class Connection:
    """One WebSocket (a market-stream connection or a WebSocket API session). Everything it sends goes through one
    queue, so events and responses leave in the order they were made."""

    def __init__(self, ws, request, kind, connected_ms):
        self.ws, self.request, self.kind = ws, request, kind
        self.queue = asyncio.Queue()
        self.tasks = []
        self.connected_ms = connected_ms
        # market streams
        self.streams = []
        self.combined = True
        # WebSocket API session (web-socket-api.md "Session Authentication", "User Data Stream subscription")
        self.session_key = None
        self.authorized_since = None
        self.return_rate_limits = True
        self.subscriptions = {}  # subscriptionId -> "logon" | "signature"
        self.next_subscription_id = 0
        # pings (web-socket-streams.md "General WSS information")
        self.outstanding_pings = {}  # payload -> loop time sent
        self.ping_count = 0

    def send(self, value):
        if not self.ws.closed:
            self.queue.put_nowait(value if isinstance(value, str) else dumps(value))

    async def writer(self):
        while True:
            text = await self.queue.get()
            if text is None or self.ws.closed:
                return
            try:
                if isinstance(text, tuple):  # close_after_flush
                    await asyncio.wait_for(self.ws.close(code=text[1], message=text[2]), 2)
                    return
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError, asyncio.TimeoutError) as error:
                log.info("send to a %s connection failed: %s", self.kind, error)
                self.abort()
                return

    def abort(self):
        """Drops the connection at once, without a close frame (as a network failure would)."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()
        self.queue.put_nowait(None)

    def close_after_flush(self, code, message=b""):
        """A close frame once everything queued before it has been sent."""
        self.queue.put_nowait(("close", code, message))

    def pong_received(self, payload):
        """A pong counts only when it echoes an outstanding ping's payload (unsolicited pongs do not)."""
        # aiohttp hands a pong's payload over as a bytearray (unhashable): compared as bytes.
        if bytes(payload) in self.outstanding_pings:
            self.outstanding_pings.clear()


class Hub:
    def __init__(self, fake):
        self.fake = fake
        self.connections = set()

    def add(self, conn):
        self.connections.add(conn)
        loop = asyncio.get_running_loop()
        conn.tasks = [loop.create_task(conn.writer()), loop.create_task(self._pinger(conn))]

    def remove(self, conn):
        self.connections.discard(conn)
        conn.queue.put_nowait(None)
        for task in conn.tasks:
            task.cancel()

    async def _pinger(self, conn):
        """The server pings every interval (20 s) and drops a connection whose pong has not come within the timeout
        (a minute), web-socket-streams.md / web-socket-api.md "General ... information"."""
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + self.fake.ping_interval
        while not conn.ws.closed:
            await asyncio.sleep(min(0.1, self.fake.ping_interval))
            now = loop.time()
            if conn.outstanding_pings and now - min(conn.outstanding_pings.values()) > self.fake.pong_timeout:
                log.info("dropping a %s connection: no pong for %.1f s", conn.kind, self.fake.pong_timeout)
                conn.abort()
                return
            if now >= next_ping:
                conn.ping_count += 1
                payload = str(self.fake.clock.now_ms()).encode()
                conn.outstanding_pings[payload] = now
                try:
                    await conn.ws.ping(payload)
                except (ConnectionError, RuntimeError):
                    return
                next_ping = now + self.fake.ping_interval

    # ----- fan-out

    def stream(self, name, data):
        """A market-stream payload to every connection listening to `name` (combined: wrapped in stream/data)."""
        for conn in list(self.connections):
            if conn.kind == "stream" and name in conn.streams:
                conn.send({"stream": name, "data": data} if conn.combined else data)

    def user(self, event):
        """A user-data event to every active subscription (user-data-stream.md: `{"subscriptionId", "event"}`)."""
        for conn in list(self.connections):
            for subscription_id in sorted(conn.subscriptions):
                conn.send({"subscriptionId": subscription_id, "event": event})

    async def drop_all(self, graceful=False):
        for conn in list(self.connections):
            if graceful:
                conn.close_after_flush(1001, b"going away")
            else:
                conn.abort()
