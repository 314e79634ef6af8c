"""Command line, the aiohttp application and the process's life (port file, signals, parent watch)."""
import argparse
import asyncio
import logging
import os
import signal
import socket
import sys

from aiohttp import web

from . import control, rest, streams, wsapi
from .engine import split_symbol
from .security import DOC_API_KEY, DOC_HMAC_SECRET, Keys
from .state import Fake
from .util import Clock, Decimal

log = logging.getLogger("fake_binance")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="fake_binance.py", description="A fake Binance Spot exchange on 127.0.0.1.")
    parser.add_argument("--port-file", required=True, help="where to write the port once listening")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--api-key", default=DOC_API_KEY)
    parser.add_argument("--hmac-secret", default=None, help="default: rest-api.md's example secret (unless an Ed25519 key is given)")
    parser.add_argument("--ed25519-public-key", default=None, help="PEM file of the API key's Ed25519 public key")
    parser.add_argument("--symbols", default="BTCUSDT,ETHUSDT")
    parser.add_argument("--balances", default="USDT=10000,BTC=0,ETH=0")
    parser.add_argument("--log", default=None, help="log file (default: stderr)")
    args = parser.parse_args(argv)
    if args.hmac_secret is None and args.ed25519_public_key is None:
        args.hmac_secret = DOC_HMAC_SECRET
    return args


def parse_balances(text):
    out = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        asset, _, amount = item.partition("=")
        out[asset.strip()] = Decimal(amount.strip())
    return out


def build_app(fake):
    app = web.Application(client_max_size=1 << 20)
    app["fake"] = fake
    for method, path, handler in control.ROUTES:
        app.router.add_route(method, path, control.wrap(handler))
    app.router.add_get("/ws-api/v3", wsapi.handle)
    app.router.add_get("/stream", streams.handle_combined)
    app.router.add_get("/ws/{streams:.*}", streams.handle_raw)
    app.router.add_route("*", "/api/{tail:.*}", rest.handle)
    return app


def write_port_file(path, port):
    """Atomically: a temporary file renamed over `path`, so a reader never sees half a number."""
    temporary = f"{path}.tmp.{os.getpid()}"
    with open(temporary, "w") as f:
        f.write(f"{port}\n")
    os.replace(temporary, path)


async def watch_parent(stop):
    """Exits when the parent dies (its pid changes), so a crashed test leaves nothing running."""
    parent = os.getppid()
    while not stop.is_set():
        await asyncio.sleep(1)
        if os.getppid() != parent:
            log.info("parent %d is gone: exiting", parent)
            stop.set()


async def serve(args):
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    for name in symbols:
        split_symbol(name)
    keys = Keys(args.api_key, args.hmac_secret, args.ed25519_public_key)
    fake = Fake(Clock(), keys, symbols, parse_balances(args.balances))
    runner = web.AppRunner(build_app(fake), access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    site = web.SockSite(runner, sock)
    await site.start()
    port = sock.getsockname()[1]
    write_port_file(args.port_file, port)
    log.info("fake Binance listening on 127.0.0.1:%d (symbols %s)", port, ",".join(symbols))
    stop = asyncio.Event()
    fake.stopping = stop
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # A parent's threads may block signals, and a spawned child inherits that mask: a blocked SIGTERM would
    # never reach the handler above (a Swift test process starts the fake with nearly every signal blocked).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    watcher = loop.create_task(watch_parent(stop))
    await stop.wait()
    watcher.cancel()
    log.info("stopping")
    await fake.hub.drop_all()
    await runner.cleanup()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    handler = logging.FileHandler(args.log) if args.log else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s fake_binance %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(args))
    except (ValueError, OSError) as error:
        log.error("cannot start: %s", error)
        return 2
    return 0
