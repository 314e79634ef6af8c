"""The fake's whole state: clock, keys, engine, limits, switches, connections and the request log."""
import asyncio
import logging
import time

from .engine import Engine
from .hub import Hub
from .limits import Behaviours, Limits

log = logging.getLogger("fake_binance")


class Fake:
    def __init__(self, clock, keys, symbols, balances):
        self.clock = clock
        self.keys = keys
        self.hub = Hub(self)
        self.engine = Engine(clock, symbols, balances, self.hub)
        self.limits = Limits()
        self.behaviours = Behaviours()
        self.ping_interval = 20.0  # web-socket-streams.md: "The WebSocket server will send a ping frame every 20 seconds"
        self.pong_timeout = 60.0  # "... does not receive a pong frame back ... within a minute ... disconnected"
        self.requests = []
        self.sequence = 0
        self.stopping = None  # an asyncio.Event once serving
        self.delayed = set()  # orders executing later (order_1007_execute_later)

    async def hold(self, seconds):
        """Holds an answer `seconds`, or until the fake stops (so SIGTERM never waits on a held answer)."""
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    def execute_later(self, seconds, drop_streams, execute):
        """order_1007_execute_later: runs `execute` (the order's handler) `seconds` from now, after dropping every
        WebSocket when `drop_streams` (so its executionReport is lost and only a look-up finds the order)."""
        async def run():
            await self.hold(seconds)
            if self.stopping.is_set():
                return
            if drop_streams:
                await self.hub.drop_all()
            try:
                execute()
                log.info("a delayed order executed")
            except Exception as error:  # an order the book refuses now: Binance would have rejected it then
                log.info("a delayed order was refused: %s", error)
        task = asyncio.get_running_loop().create_task(run())
        self.delayed.add(task)
        task.add_done_callback(self.delayed.discard)

    def log_request(self, transport, method, path, params):
        """A request as it arrives (GET /fake/requests): answered status and execution filled in later."""
        self.sequence += 1
        entry = {"seq": self.sequence, "time": int(time.time() * 1000), "transport": transport, "method": method,
                 "path": path, "params": {k: v for k, v in params.items() if k != "signature"},
                 "status": None, "code": None, "executed": False}
        self.requests.append(entry)
        return entry

    def answered(self, entry, status, code=None, executed=False):
        entry["status"], entry["code"] = status, code
        entry["executed"] = entry["executed"] or executed
        log.info("%s %s %s -> %s%s%s", entry["transport"], entry["method"], entry["path"], status,
                 f" {code}" if code is not None else "", " (executed)" if entry["executed"] else "")
