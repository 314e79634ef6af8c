#!/usr/bin/env python3
"""Self-check of the fake Binance (Tests/Peers/fake_binance.py): starts it as a child process and exercises every
behaviour the README lists. Run with the peers' venv: `$(bash scripts/setup-peers | tail -1) Tests/Peers/check_fake_binance.py`.
Exit 0 when everything holds. Stdlib + aiohttp + cryptography."""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from urllib.parse import quote, urlencode

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "fake_binance.py")
# rest-api.md "HMAC Keys": the documented example key, secret, payload and signature.
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_PAYLOAD = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def now_ms():
    return int(time.time() * 1000)


def encode(params):
    """Percent-encoded `name=value&...`, as Binance wants the signed payload (rest-api.md step 1)."""
    return urlencode(params, quote_via=quote, safe="")


class Peer:
    """The fake as a child process plus a client that signs requests the way Binance documents."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.ed_key = Ed25519PrivateKey.generate()
        self.pem = os.path.join(tmp, "ed25519.pem")
        with open(self.pem, "wb") as f:
            f.write(self.ed_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
        self.port_file = os.path.join(tmp, "port")
        self.log_file = os.path.join(tmp, "fake.log")
        self.proc = None
        self.session = None

    def start(self):
        self.proc = subprocess.Popen([sys.executable, FAKE, "--port-file", self.port_file, "--port", "0",
                                      "--api-key", API_KEY, "--hmac-secret", SECRET, "--ed25519-public-key", self.pem,
                                      "--symbols", "BTCUSDT,ETHUSDT,BNBUSDT",
                                      "--balances", "USDT=100000,BTC=1,ETH=10,BNB=0", "--log", self.log_file])
        deadline = time.time() + 15
        while not os.path.exists(self.port_file):
            assert self.proc.poll() is None, "the fake exited at start"
            assert time.time() < deadline, "the fake wrote no port file"
            time.sleep(0.05)
        self.port = int(open(self.port_file).read().strip())
        self.base = f"http://127.0.0.1:{self.port}"

    # ----- HTTP

    async def raw(self, method, path, query="", body=None, headers=None, timeout=10):
        url = self.base + path + (("?" + query) if query else "")
        hdrs = dict(headers or {})
        if body is not None:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        async with self.session.request(method, aiohttp.client.URL(url, encoded=True), data=body, headers=hdrs,
                                        timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            text = await r.text()
            return r.status, r.headers, json.loads(text) if text and text[0] in "[{" else text

    def sign_hmac(self, payload):
        return hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()

    def sign_ed(self, payload):
        return base64.b64encode(self.ed_key.sign(payload.encode())).decode()

    async def signed(self, method, path, params, where="query", key="hmac", api_key=API_KEY, timestamp=True, timeout=10,
                     tamper=False):
        """A SIGNED request: params percent-encoded, signature over query+body as sent, appended last."""
        params = dict(params)
        if timestamp:
            params.setdefault("timestamp", now_ms())
        payload = encode(params)
        signature = self.sign_hmac(payload) if key == "hmac" else self.sign_ed(payload)
        if tamper:
            signature = ("0" if signature[0] != "0" else "1") + signature[1:]
        sig = "signature=" + quote(signature, safe="")
        headers = {"X-MBX-APIKEY": api_key} if api_key is not None else {}
        if where == "query":
            return await self.raw(method, path, payload + "&" + sig, headers=headers, timeout=timeout)
        return await self.raw(method, path, body=payload + "&" + sig, headers=headers, timeout=timeout)

    async def control(self, path, body=None):
        method = "GET" if body is None else "POST"
        async with self.session.request(method, self.base + path, json=body) as r:
            assert r.status == 200, (path, r.status, await r.text())
            return await r.json()

    async def order(self, **params):
        return await self.signed("POST", "/api/v3/order", params)

    async def ws(self, path, **kwargs):
        return await self.session.ws_connect(self.base.replace("http", "ws") + path, **kwargs)


def expect_error(answer, status, code, msg=None):
    got_status, _, body = answer
    assert got_status == status and isinstance(body, dict) and body.get("code") == code, (status, code, answer)
    if msg is not None:
        assert body["msg"] == msg, (msg, body)


def ok(answer):
    status, _, body = answer
    assert status == 200, answer
    return body


async def next_json(ws, timeout=3, where=None):
    """The next text message (skipping pings), optionally the next one satisfying `where`."""
    end = time.time() + timeout
    while True:
        left = end - time.time()
        assert left > 0, "no message in time"
        msg = await ws.receive(timeout=left)
        if msg.type != aiohttp.WSMsgType.TEXT:
            assert msg.type in (aiohttp.WSMsgType.PING, aiohttp.WSMsgType.PONG), msg
            continue
        value = json.loads(msg.data)
        if where is None or where(value):
            return value


async def drain(ws, seconds=0.3):
    out = []
    end = time.time() + seconds
    while time.time() < end:
        try:
            msg = await ws.receive(timeout=max(0.01, end - time.time()))
        except asyncio.TimeoutError:
            break
        if msg.type == aiohttp.WSMsgType.TEXT:
            out.append(json.loads(msg.data))
        elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            break
    return out


# ======================================================================================= checks


async def check_public(peer):
    assert ok(await peer.raw("GET", "/api/v3/ping")) == {}
    status, headers, body = await peer.raw("GET", "/api/v3/time")
    assert status == 200 and abs(body["serverTime"] - now_ms()) < 2000 and "X-MBX-USED-WEIGHT-1M" in headers
    info = ok(await peer.raw("GET", "/api/v3/exchangeInfo", "symbols=" + quote('["BTCUSDT","ETHUSDT"]', safe="")))
    assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    limits = {(r["rateLimitType"], r["interval"], r["intervalNum"]): r["limit"] for r in info["rateLimits"]}
    assert limits[("REQUEST_WEIGHT", "MINUTE", 1)] == 6000 and limits[("ORDERS", "SECOND", 10)] == 50
    assert limits[("ORDERS", "DAY", 1)] == 160000
    btc = {f["filterType"]: f for f in info["symbols"][0]["filters"]}
    assert btc["PRICE_FILTER"]["tickSize"] == "0.01000000" and btc["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert btc["LOT_SIZE"]["minQty"] == "0.00001000" and btc["LOT_SIZE"]["maxQty"] == "9000.00000000"
    assert btc["NOTIONAL"]["minNotional"] == "5.00000000"
    assert info["symbols"][0]["baseAsset"] == "BTC" and info["symbols"][0]["quoteAsset"] == "USDT"
    eth = {f["filterType"]: f for f in info["symbols"][1]["filters"]}
    assert eth["LOT_SIZE"]["stepSize"] == "0.00010000"
    expect_error(await peer.raw("GET", "/api/v3/exchangeInfo", "symbol=NOPE"), 400, -1121, "Invalid symbol.")
    assert ok(await peer.raw("GET", "/api/v3/ticker/price", "symbol=ETHUSDT")) == {"symbol": "ETHUSDT", "price": "3000.00000000"}
    book = ok(await peer.raw("GET", "/api/v3/ticker/bookTicker", "symbol=BTCUSDT"))
    assert book["bidPrice"] == "60000.00000000" and book["askPrice"] == "60000.01000000"
    assert (await peer.control("/fake/health"))["ok"] is True


async def check_documented_hmac_vector(peer):
    assert peer.sign_hmac(DOC_PAYLOAD) == DOC_SIGNATURE
    # Move the server clock to the example's timestamp: the signature then passes, and LTCBTC is unknown (-1121).
    await peer.control("/fake/clock", {"offsetMs": 1499827319559 + 300 - now_ms()})
    try:
        headers = {"X-MBX-APIKEY": API_KEY}
        expect_error(await peer.raw("POST", "/api/v3/order", DOC_PAYLOAD + "&signature=" + DOC_SIGNATURE, headers=headers),
                     400, -1121, "Invalid symbol.")
        # HMAC signatures are not case-sensitive (rest-api.md "Signature Case Sensitivity").
        expect_error(await peer.raw("POST", "/api/v3/order", DOC_PAYLOAD + "&signature=" + DOC_SIGNATURE.upper(),
                                    headers=headers), 400, -1121)
        expect_error(await peer.raw("POST", "/api/v3/order", DOC_PAYLOAD + "&signature=" + "0" + DOC_SIGNATURE[1:],
                                    headers=headers), 400, -1022, "Signature for this request is not valid.")
        # The same payload in the body, signature in the body.
        expect_error(await peer.raw("POST", "/api/v3/order", body=DOC_PAYLOAD + "&signature=" + DOC_SIGNATURE,
                                    headers=headers), 400, -1121)
        # Mixed: query string + body concatenated without separator is what is signed.
        query, body = DOC_PAYLOAD.split("&quantity")
        body = "quantity" + body
        mixed_sig = peer.sign_hmac(query + body)
        expect_error(await peer.raw("POST", "/api/v3/order", query, body=body + "&signature=" + mixed_sig, headers=headers),
                     400, -1121)
        # /api/v3/time follows the shifted clock.
        assert abs(ok(await peer.raw("GET", "/api/v3/time"))["serverTime"] - 1499827319559) < 3000
    finally:
        await peer.control("/fake/clock", {"offsetMs": 0})


async def check_security_errors(peer):
    params = {"omitZeroBalances": "true"}
    expect_error(await peer.signed("GET", "/api/v3/account", params, api_key=None), 401, -2014, "API-key format invalid.")
    expect_error(await peer.signed("GET", "/api/v3/account", params, api_key="A" * 64), 401, -2015,
                 "Invalid API-key, IP, or permissions for action.")
    expect_error(await peer.raw("GET", "/api/v3/account", encode({"timestamp": now_ms()}), headers={"X-MBX-APIKEY": API_KEY}),
                 400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
    expect_error(await peer.signed("GET", "/api/v3/account", params, tamper=True), 400, -1022)
    expect_error(await peer.signed("GET", "/api/v3/account", params, timestamp=False), 400, -1102,
                 "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
    expect_error(await peer.signed("GET", "/api/v3/account", dict(params, timestamp=now_ms() - 6000)), 400, -1021,
                 "Timestamp for this request is outside of the recvWindow.")
    ok(await peer.signed("GET", "/api/v3/account", dict(params, timestamp=now_ms() - 6000, recvWindow=10000)))
    expect_error(await peer.signed("GET", "/api/v3/account", dict(params, timestamp=now_ms() + 1500)), 400, -1021,
                 "Timestamp for this request was 1000ms ahead of the server's time.")
    expect_error(await peer.signed("GET", "/api/v3/account", dict(params, recvWindow=60001)), 400, -1102,
                 "'recvWindow' contains unexpected value. Cannot be greater than 60000.")
    ok(await peer.signed("GET", "/api/v3/account", dict(params, timestamp=now_ms() * 1000)))  # microseconds
    ok(await peer.signed("GET", "/api/v3/account", params, key="ed25519"))  # Ed25519, base64 percent-encoded
    ok(await peer.signed("POST", "/api/v3/order/test", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                        "quantity": "0.001"}, where="body", key="ed25519"))
    # A signature over the unencoded text while the encoded text is sent: -1022 (CHANGELOG 2025-12-17).
    params = {"symbol": "BTCUSDT", "orderId": "1", "newClientOrderId": "a/b", "timestamp": now_ms()}
    unencoded = "&".join(f"{k}={v}" for k, v in params.items())
    expect_error(await peer.raw("DELETE", "/api/v3/order", encode(params) + "&signature=" + peer.sign_hmac(unencoded),
                                headers={"X-MBX-APIKEY": API_KEY}), 400, -1022)
    # Signed over the encoded text, the same request gets past the signature (and fails on the id's characters).
    expect_error(await peer.signed("DELETE", "/api/v3/order", params), 400, -1100)
    # Duplicate parameter, unknown parameter.
    query = encode({"omitZeroBalances": "true", "timestamp": now_ms()}) + "&omitZeroBalances=false"
    expect_error(await peer.raw("GET", "/api/v3/account", query + "&signature=" + peer.sign_hmac(query),
                                headers={"X-MBX-APIKEY": API_KEY}), 400, -1101)
    expect_error(await peer.signed("GET", "/api/v3/account", {"foo": "bar"}), 400, -1104,
                 "Not all sent parameters were read; read '2' parameter(s) but was sent '3'.")


async def balances(peer):
    body = ok(await peer.signed("GET", "/api/v3/account", {}))
    return {b["asset"]: (b["free"], b["locked"]) for b in body["balances"]}


async def check_market_orders(peer):
    before = await balances(peer)
    status, headers, body = await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001",
                                             newClientOrderId="mkt-buy-1")
    assert status == 200, body
    assert headers["X-MBX-USED-WEIGHT-1M"] is not None and "X-MBX-ORDER-COUNT-10S" in headers and "X-MBX-ORDER-COUNT-1D" in headers
    assert body["status"] == "FILLED" and body["executedQty"] == "0.00100000" and body["origQty"] == "0.00100000"
    assert body["price"] == "0.00000000" and body["cummulativeQuoteQty"] == "60.00001000" and body["clientOrderId"] == "mkt-buy-1"
    (fill,) = body["fills"]
    assert fill == {"price": "60000.01000000", "qty": "0.00100000", "commission": "0.06000001",
                    "commissionAsset": "USDT", "tradeId": fill["tradeId"]}, fill
    after = await balances(peer)
    from decimal import Decimal as D
    assert D(after["USDT"][0]) == D(before["USDT"][0]) - D("60.00001") - D("0.06000001")
    assert D(after["BTC"][0]) == D(before["BTC"][0]) + D("0.001")
    body = ok(await peer.order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.001", newOrderRespType="RESULT"))
    assert body["status"] == "FILLED" and "fills" not in body and body["cummulativeQuoteQty"] == "60.00000000"
    ack = ok(await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quoteOrderQty="100", newOrderRespType="ACK"))
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    query = ok(await peer.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": ack["orderId"]}))
    assert query["status"] == "FILLED" and query["executedQty"] == "0.00166000" and query["origQuoteOrderQty"] == "100.00000000"


async def check_limit_orders(peer):
    # GTC below the market rests, locks quote, fills as maker when the price is moved across it.
    body = ok(await peer.order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.5",
                               price="2900.00", newClientOrderId="eth-limit-1"))
    assert body["status"] == "NEW" and body["fills"] == []
    bal = await balances(peer)
    assert bal["USDT"][1] == "1450.00000000", bal
    opened = ok(await peer.signed("GET", "/api/v3/openOrders", {"symbol": "ETHUSDT"}))
    assert [o["clientOrderId"] for o in opened] == ["eth-limit-1"]
    # Reusing the client id of an open order: -2010 Duplicate order sent.
    expect_error(await peer.order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.5",
                                  price="2800.00", newClientOrderId="eth-limit-1"), 400, -2010, "Duplicate order sent.")
    moved = await peer.control("/fake/price", {"symbol": "ETHUSDT", "bid": "2899.00", "ask": "2899.50"})
    assert len(moved["trades"]) == 1 and moved["trades"][0]["price"] == "2900.00000000" and moved["trades"][0]["isMaker"]
    query = ok(await peer.signed("GET", "/api/v3/order", {"symbol": "ETHUSDT", "origClientOrderId": "eth-limit-1"}))
    assert query["status"] == "FILLED" and query["cummulativeQuoteQty"] == "1450.00000000"
    assert (await balances(peer))["USDT"][1] == "0.00000000"
    # Filled, it is open no more (the engine's open orders are pruned as they end).
    assert ok(await peer.signed("GET", "/api/v3/openOrders", {"symbol": "ETHUSDT"})) == []
    # Marketable GTC fills at once at the ask (taker).
    body = ok(await peer.order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.1", price="3000.00"))
    assert body["status"] == "FILLED" and body["fills"][0]["price"] == "2899.50000000"
    # IOC / FOK not marketable expire.
    for tif, reason in (("IOC", "UNFILLED_IOC_QUANTITY_EXPIRED"), ("FOK", "UNFILLED_FOK_ORDER_EXPIRED")):
        body = ok(await peer.order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce=tif, quantity="0.1", price="2000.00"))
        assert body["status"] == "EXPIRED" and body["executedQty"] == "0.00000000" and body["expiryReason"] == reason, body
    body = ok(await peer.order(symbol="ETHUSDT", side="SELL", type="LIMIT", timeInForce="FOK", quantity="0.1", price="2899.00"))
    assert body["status"] == "FILLED"
    # LIMIT_MAKER: rejected when it would take; rests otherwise (default response ACK).
    expect_error(await peer.order(symbol="ETHUSDT", side="BUY", type="LIMIT_MAKER", quantity="0.1", price="2900.00"),
                 400, -2010, "Order would immediately match and take.")
    body = ok(await peer.order(symbol="ETHUSDT", side="SELL", type="LIMIT_MAKER", quantity="0.1", price="3100.00",
                               newClientOrderId="maker-1"))
    assert set(body) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    # Cancel by client id; cancelling again: -2011; unknown order: -2013.
    canceled = ok(await peer.signed("DELETE", "/api/v3/order", {"symbol": "ETHUSDT", "origClientOrderId": "maker-1"}))
    assert canceled["status"] == "CANCELED" and canceled["origClientOrderId"] == "maker-1"
    expect_error(await peer.signed("DELETE", "/api/v3/order", {"symbol": "ETHUSDT", "origClientOrderId": "maker-1"}),
                 400, -2011, "Unknown order sent.")
    expect_error(await peer.signed("GET", "/api/v3/order", {"symbol": "ETHUSDT", "orderId": 999999}), 400, -2013,
                 "Order does not exist.")
    expect_error(await peer.signed("GET", "/api/v3/order", {"symbol": "ETHUSDT"}), 400, -1102,
                 "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
    # The client id of a canceled order can be used again.
    ok(await peer.order(symbol="ETHUSDT", side="SELL", type="LIMIT_MAKER", quantity="0.1", price="3100.00",
                        newClientOrderId="maker-1"))
    ok(await peer.signed("DELETE", "/api/v3/order", {"symbol": "ETHUSDT", "origClientOrderId": "maker-1"}))
    await peer.control("/fake/price", {"symbol": "ETHUSDT", "bid": "3000.00", "ask": "3000.01"})


async def check_order_rejections(peer):
    base = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    cases = [
        (dict(base, quantity="0.001", price="50000.000000001"), -1111, "Parameter 'price' has too much precision."),
        (dict(base, quantity="0.001", price="50000.005"), -1013, "Filter failure: PRICE_FILTER"),
        (dict(base, quantity="0.000015", price="50000"), -1013, "Filter failure: LOT_SIZE"),
        (dict(base, quantity="9001", price="50000"), -1013, "Filter failure: LOT_SIZE"),
        (dict(base, quantity="0.00001", price="50000"), -1013, "Filter failure: NOTIONAL"),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "101"}, -1013, "Filter failure: MARKET_LOT_SIZE"),
        (dict(base, quantity="0.001"), -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": "1"}, -1102,
         "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"}, -1102,
         "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001", "timeInForce": "GTC"}, -1106,
         "Parameter 'timeInForce' sent when not required."),
        (dict(base, symbol="DOGEUSDT", quantity="1", price="1"), -1121, "Invalid symbol."),
        (dict(base, side="HOLD", quantity="1", price="1"), -1117, "Invalid side."),
        (dict(base, type="STOP", quantity="1", price="1"), -1116, "Invalid orderType."),
        (dict(base, timeInForce="GTX", quantity="1", price="1"), -1115, "Invalid timeInForce."),
        (dict(base, quantity="abc", price="1"), -1100, None),
        (dict(base, type="STOP_LOSS", quantity="1", price="1"), -2010, "Stop loss orders are not supported for this symbol."),
        (dict(base, quantity="10", price="50000"), -2010, "Account has insufficient balance for requested action."),
        ({"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "5"}, -2010,
         "Account has insufficient balance for requested action."),
    ]
    before = len(await peer.control("/fake/orders"))
    for params, code, msg in cases:
        expect_error(await peer.order(**params), 400, code, msg)
    assert len(await peer.control("/fake/orders")) == before, "a rejected order was created"


async def check_commissions(peer):
    await peer.control("/fake/commission", {"asset": "base", "rate": "0.001"})
    fill = ok(await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01"))["fills"][0]
    assert fill["commissionAsset"] == "BTC" and fill["commission"] == "0.00001000", fill
    fill = ok(await peer.order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.01"))["fills"][0]
    assert fill["commissionAsset"] == "USDT"
    await peer.control("/fake/commission", {"asset": "BNB", "rate": "0.001"})
    fill = ok(await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"))["fills"][0]
    assert fill["commissionAsset"] == "BTC", "no BNB: the received asset pays"
    await peer.control("/fake/balance", {"asset": "BNB", "free": "1"})
    fill = ok(await peer.order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.001"))["fills"][0]
    # 60000.00 * 0.001 * 0.001 / 600 (BNBUSDT's last price) = 0.0001 BNB
    assert fill == dict(fill, commissionAsset="BNB", commission="0.00010000"), fill
    await peer.control("/fake/commission", {"asset": "quote", "rate": "0.001"})
    account = ok(await peer.signed("GET", "/api/v3/account", {"omitZeroBalances": "true"}))
    assert all(b["free"] != "0.00000000" or b["locked"] != "0.00000000" for b in account["balances"])
    assert account["commissionRates"]["taker"] == "0.00100000"
    everything = ok(await peer.signed("GET", "/api/v3/account", {"omitZeroBalances": "false"}))
    assert len(everything["balances"]) >= len(account["balances"])


async def check_my_trades(peer):
    trades = ok(await peer.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}))
    assert len(trades) >= 6 and [t["id"] for t in trades] == sorted(t["id"] for t in trades)
    first = trades[0]
    assert set(first) >= {"symbol", "id", "orderId", "price", "qty", "quoteQty", "commission", "commissionAsset", "time",
                          "isBuyer", "isMaker", "isBestMatch"}
    assert ok(await peer.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "fromId": trades[2]["id"], "limit": 2})) == trades[2:4]
    by_order = ok(await peer.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": first["orderId"]}))
    assert by_order and all(t["orderId"] == first["orderId"] for t in by_order)
    window = ok(await peer.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "startTime": first["time"],
                                                              "endTime": now_ms()}))
    assert window[0] == first
    expect_error(await peer.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "fromId": 1, "startTime": 1}),
                 400, -1128)
    expect_error(await peer.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "startTime": 1, "endTime": 1 + 25 * 3600000}),
                 400, -1127)
    expect_error(await peer.signed("GET", "/api/v3/myTrades", {}), 400, -1102)


async def check_partial_fills_and_user_data(peer):
    ws = await peer.ws("/ws-api/v3")
    try:
        # session.logon (Ed25519 only), signed over the sorted params.
        params = {"apiKey": API_KEY, "timestamp": now_ms()}
        params["signature"] = peer.sign_ed("&".join(f"{k}={v}" for k, v in sorted(params.items())))
        await ws.send_json({"id": "logon", "method": "session.logon", "params": params})
        answer = await next_json(ws)
        assert answer["id"] == "logon" and answer["status"] == 200 and answer["result"]["apiKey"] == API_KEY, answer
        assert answer["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
        await ws.send_json({"id": 2, "method": "userDataStream.subscribe"})
        answer = await next_json(ws)
        assert answer["result"] == {"subscriptionId": 0}, answer
        await ws.send_json({"id": 3, "method": "userDataStream.subscribe"})
        assert (await next_json(ws))["error"]["code"] == -2035
        await ws.send_json({"id": 4, "method": "session.status"})
        assert (await next_json(ws))["result"]["userDataStream"] is True

        # A resting order then a cancel: NEW, CANCELED executionReports and account positions.
        ok(await peer.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001",
                            price="50000.00", newClientOrderId="ud-1"))
        new = await next_json(ws, where=lambda m: m.get("event", {}).get("e") == "executionReport")
        assert new["subscriptionId"] == 0
        event = new["event"]
        assert event["x"] == "NEW" and event["X"] == "NEW" and event["c"] == "ud-1" and event["i"] > 0 and event["t"] == -1
        assert event["q"] == "0.00100000" and event["p"] == "50000.00000000" and event["N"] is None and event["w"] is True
        position = await next_json(ws, where=lambda m: m.get("event", {}).get("e") == "outboundAccountPosition")
        assert [b["a"] for b in position["event"]["B"]] == ["USDT"] and position["event"]["B"][0]["l"] == "50.00000000"
        ok(await peer.signed("DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "ud-1",
                                                         "newClientOrderId": "cancel-ud-1"}))
        event = (await next_json(ws, where=lambda m: m.get("event", {}).get("e") == "executionReport"))["event"]
        assert event["x"] == "CANCELED" and event["C"] == "ud-1" and event["c"] == "cancel-ud-1"

        # Partial fills: 3 parts, the rest delivered by /fake/advance, each its own trade.
        await peer.control("/fake/partial", {"parts": 3})
        await drain(ws)
        body = ok(await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.003", newClientOrderId="part-1"))
        assert body["status"] == "PARTIALLY_FILLED" and body["executedQty"] == "0.00100000" and len(body["fills"]) == 1
        await peer.control("/fake/advance", {})
        query = ok(await peer.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "part-1"}))
        assert query["status"] == "PARTIALLY_FILLED" and query["executedQty"] == "0.00200000"
        await peer.control("/fake/advance", {})
        query = ok(await peer.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "part-1"}))
        assert query["status"] == "FILLED" and query["executedQty"] == "0.00300000"
        events = [m["event"] for m in await drain(ws, 0.5) if m.get("event", {}).get("e") == "executionReport"]
        trades = [e for e in events if e["x"] == "TRADE"]
        assert [e["X"] for e in events] == ["NEW", "PARTIALLY_FILLED", "PARTIALLY_FILLED", "FILLED"], events
        assert [e["z"] for e in trades] == ["0.00100000", "0.00200000", "0.00300000"]
        assert len({e["t"] for e in trades}) == 3 and all(e["N"] == "USDT" and e["l"] == "0.00100000" for e in trades)
        witness = [o for o in await peer.control("/fake/orders") if o["clientOrderId"] == "part-1"][0]
        assert len(witness["executions"]) == 3

        # out_of_order_fill_events: the order's trade events come last-first.
        await peer.control("/fake/behaviour", {"name": "out_of_order_fill_events", "count": 1})
        ok(await peer.order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.003", newClientOrderId="part-2"))
        await peer.control("/fake/advance", {})
        await peer.control("/fake/advance", {})
        trades = [m["event"] for m in await drain(ws, 0.5) if m.get("event", {}).get("x") == "TRADE"]
        assert [e["z"] for e in trades] == ["0.00300000", "0.00200000", "0.00100000"], trades
        await peer.control("/fake/partial", {"parts": 1})

        # duplicate_fill_events: each trade event twice.
        await peer.control("/fake/behaviour", {"name": "duplicate_fill_events", "count": 1})
        ok(await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"))
        trades = [m["event"] for m in await drain(ws, 0.5) if m.get("event", {}).get("x") == "TRADE"]
        assert len(trades) == 2 and trades[0] == trades[1]
        ok(await peer.order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.001"))
        trades = [m["event"] for m in await drain(ws, 0.5) if m.get("event", {}).get("x") == "TRADE"]
        assert len(trades) == 1, "duplicate_fill_events applies to one order only"

        # order.place over the WebSocket API on the logged-on session (no apiKey/signature needed).
        await ws.send_json({"id": "wsorder", "method": "order.place", "params": {
            "symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001", "timestamp": now_ms()}})
        answer = await next_json(ws, where=lambda m: m.get("id") == "wsorder")
        assert answer["status"] == 200 and answer["result"]["status"] == "FILLED", answer
        assert {r["rateLimitType"] for r in answer["rateLimits"]} == {"ORDERS", "REQUEST_WEIGHT"}

        await ws.send_json({"id": 9, "method": "userDataStream.unsubscribe"})
        got = await drain(ws, 0.5)
        assert any(m.get("event", {}).get("e") == "eventStreamTerminated" for m in got), got
        assert any(m.get("id") == 9 and m.get("result") == {} for m in got), got
    finally:
        await ws.close()


async def check_ws_api_misc(peer):
    ws = await peer.ws("/ws-api/v3?returnRateLimits=false")
    try:
        await ws.send_json({"id": 1, "method": "ping"})
        assert await next_json(ws) == {"id": 1, "status": 200, "result": {}}
        await ws.send_json({"id": 2, "method": "v3/time"})
        assert abs((await next_json(ws))["result"]["serverTime"] - now_ms()) < 2000
        await ws.send_str("{not json")
        answer = await next_json(ws)
        assert answer["status"] == 400 and answer["error"]["code"] == -1135 and answer["id"] is None
        await ws.send_json({"id": 3, "method": "userDataStream.subscribe"})
        assert (await next_json(ws))["status"] in (400, 401)  # not logged on
        # session.logon with an HMAC signature is refused: Ed25519 only.
        params = {"apiKey": API_KEY, "timestamp": now_ms()}
        params["signature"] = peer.sign_hmac("&".join(f"{k}={v}" for k, v in sorted(params.items())))
        await ws.send_json({"id": 4, "method": "session.logon", "params": params})
        assert (await next_json(ws))["error"]["code"] == -1022
        # userDataStream.subscribe.signature accepts HMAC on any session.
        await ws.send_json({"id": 5, "method": "userDataStream.subscribe.signature", "params": params})
        assert (await next_json(ws))["result"] == {"subscriptionId": 0}
        await ws.send_json({"id": 6, "method": "userDataStream.unsubscribe", "params": {"subscriptionId": 7}})
        assert (await next_json(ws, where=lambda m: m.get("id") == 6))["error"]["code"] == -2036
        # A signed request with apiKey + signature in its params (HMAC, sorted payload).
        params = {"apiKey": API_KEY, "symbol": "BTCUSDT", "timestamp": now_ms()}
        params["signature"] = peer.sign_hmac("&".join(f"{k}={v}" for k, v in sorted(params.items())))
        await ws.send_json({"id": 7, "method": "openOrders.status", "params": params})
        answer = await next_json(ws, where=lambda m: m.get("id") == 7)
        assert answer["status"] == 200 and isinstance(answer["result"], list), answer
        await ws.send_json({"id": 8, "method": "no.such.method"})
        assert (await next_json(ws, where=lambda m: m.get("id") == 8))["status"] == 400
    finally:
        await ws.close()


async def check_market_streams(peer):
    ws = await peer.ws("/stream?streams=btcusdt@bookTicker/btcusdt@trade")
    raw = await peer.ws("/ws/btcusdt@trade")
    try:
        first = await next_json(ws)
        assert first["stream"] == "btcusdt@bookTicker" and set(first["data"]) == {"u", "s", "b", "B", "a", "A"}
        await peer.control("/fake/price", {"symbol": "BTCUSDT", "bid": "60100.00", "ask": "60100.01"})
        moved = await next_json(ws)
        assert moved["data"]["b"] == "60100.00000000" and moved["data"]["a"] == "60100.01000000" and moved["data"]["u"] > first["data"]["u"]
        ok(await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"))
        trade = await next_json(ws, where=lambda m: m["stream"] == "btcusdt@trade")
        assert trade["data"]["e"] == "trade" and trade["data"]["p"] == "60100.01000000" and trade["data"]["m"] is False
        assert set(trade["data"]) >= {"e", "E", "s", "t", "p", "q", "T", "m", "M"}
        plain = await next_json(raw)
        assert plain["e"] == "trade" and "stream" not in plain
        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 3})
        assert (await next_json(ws, where=lambda m: m.get("id") == 3))["result"] == ["btcusdt@bookTicker", "btcusdt@trade"]
        await peer.control("/fake/price", {"symbol": "BTCUSDT", "bid": "60000.00", "ask": "60000.01"})
        # drop_streams closes every WebSocket.
        await peer.control("/fake/behaviour", {"name": "drop_streams"})
        for conn in (ws, raw):
            msg = await conn.receive(timeout=3)
            while msg.type == aiohttp.WSMsgType.TEXT:
                msg = await conn.receive(timeout=3)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR), msg
    finally:
        await ws.close()
        await raw.close()


async def check_pings(peer):
    await peer.control("/fake/ping", {"intervalSeconds": 0.2, "timeoutSeconds": 0.8})
    try:
        silent = await peer.ws("/stream?streams=ethusdt@trade", autoping=False)
        polite = await peer.ws("/stream?streams=ethusdt@trade", autoping=True)
        pings, started = 0, time.time()
        while time.time() - started < 3:
            msg = await silent.receive(timeout=3)
            if msg.type == aiohttp.WSMsgType.PING:
                pings += 1
                continue
            if msg.type == aiohttp.WSMsgType.TEXT:
                continue
            break
        assert pings >= 2 and msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR), (pings, msg)
        assert time.time() - started < 2.5
        assert not polite.closed, "a client answering pings was dropped"
        await polite.close()
    finally:
        await peer.control("/fake/ping", {"intervalSeconds": 20, "timeoutSeconds": 60})


async def check_rate_limits(peer):
    await peer.control("/fake/limits", {"reset": True, "banSeconds": 1, "weight1m": 6000})
    try:
        _, headers, _ = await peer.raw("GET", "/api/v3/time")
        used = int(headers["X-MBX-USED-WEIGHT-1M"])
        # The order endpoints cost no weight when they succeed (CHANGELOG 2026-03-27).
        _, headers, _ = await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        assert int(headers["X-MBX-USED-WEIGHT-1M"]) == used
        _, headers, _ = await peer.signed("GET", "/api/v3/account", {})
        assert int(headers["X-MBX-USED-WEIGHT-1M"]) == used + 20
        await peer.control("/fake/limits", {"weight1m": used + 21})
        status, headers, body = await peer.raw("GET", "/api/v3/exchangeInfo")
        assert status == 429 and body["code"] == -1003 and int(headers["Retry-After"]) >= 1, (status, body)
        assert body["msg"].startswith("Too much request weight used; current limit is")
        await peer.control("/fake/reset-log", {})
        status, headers, body = await peer.raw("GET", "/api/v3/ping")  # during the back-off: banned
        assert status == 418 and body["code"] == -1003 and "IP banned until" in body["msg"] and "Retry-After" in headers
        expect_error(await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"), 418, -1003)
        log = await peer.control("/fake/requests")
        assert [e["status"] for e in log] == [418, 418] and not any(e["executed"] for e in log), log
        await peer.control("/fake/limits", {"reset": True, "weight1m": 6000})
        # ORDERS 10s: with a limit of 1, the second order in a window is refused (a window may turn in between).
        await peer.control("/fake/limits", {"orders10s": 1, "reset": True})
        for _ in range(3):
            status, headers, body = await peer.order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.001")
            if status != 200:
                break
        assert status == 429 and body["code"] == -1015 and "Retry-After" not in headers, (status, body)
        assert body["msg"] == "Too many new orders; current limit is 1 orders per 10 SECOND."
        status, _, _ = await peer.raw("GET", "/api/v3/ping")  # counted per account: the IP is not held back
        assert status == 200, status
    finally:
        await peer.control("/fake/limits", {"reset": True, "weight1m": 6000, "orders10s": 50, "orders1d": 160000, "banSeconds": 120})


async def check_behaviours(peer):
    await peer.control("/fake/limits", {"reset": True, "banSeconds": 1})
    try:
        # reject_429 then an impatient request: 418 ban; after Retry-After all is well again.
        await peer.control("/fake/behaviour", {"name": "reject_429", "count": 1, "retryAfter": 1})
        status, headers, body = await peer.raw("GET", "/api/v3/time")
        assert status == 429 and headers["Retry-After"] == "1" and body["code"] == -1003
        status, headers, _ = await peer.raw("GET", "/api/v3/time")
        assert status == 418 and "Retry-After" in headers
        await asyncio.sleep(1.2)
        assert (await peer.raw("GET", "/api/v3/time"))[0] == 200
        # ban_418 for 1 s: every request 418 while it lasts.
        await peer.control("/fake/behaviour", {"name": "ban_418", "count": 1, "retryAfter": 1})
        assert (await peer.raw("GET", "/api/v3/ping"))[0] == 418
        assert (await peer.raw("GET", "/api/v3/ping"))[0] == 418
        await asyncio.sleep(1.1)
        assert (await peer.raw("GET", "/api/v3/ping"))[0] == 200
        # On the WebSocket API a banned request gets status 418 (error.data.retryAfter) and the connection closes.
        ws = await peer.ws("/ws-api/v3")
        await peer.control("/fake/behaviour", {"name": "ban_418", "count": 1, "retryAfter": 1})
        await ws.send_json({"id": "b", "method": "ping"})
        answer = await next_json(ws)
        assert answer["status"] == 418 and answer["error"]["code"] == -1003 and "retryAfter" in answer["error"]["data"], answer
        msg = await ws.receive(timeout=3)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
        await ws.close()
        await asyncio.sleep(1.1)

        orders_before = len(await peer.control("/fake/orders"))
        # order_5xx_before_execute: 503, nothing executed.
        await peer.control("/fake/behaviour", {"name": "order_5xx_before_execute", "count": 1})
        status, _, body = await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        assert status == 503 and body["code"] < 0, body
        assert len(await peer.control("/fake/orders")) == orders_before
        # order_5xx_after_execute: 500 with -1006, and exactly one execution.
        await peer.control("/fake/behaviour", {"name": "order_5xx_after_execute", "count": 1, "status": 500, "code": -1006})
        status, _, body = await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001", newClientOrderId="x5")
        assert status == 500 and body["code"] == -1006, body
        witness = [o for o in await peer.control("/fake/orders") if o["clientOrderId"] == "x5"]
        assert len(witness) == 1 and len(witness[0]["executions"]) == 1
        # order_timeout_after_execute: the answer is held past the client's patience; the order exists.
        await peer.control("/fake/behaviour", {"name": "order_timeout_after_execute", "count": 1, "seconds": 2})
        try:
            await peer.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET",
                                                        "quantity": "0.001", "newClientOrderId": "xt"}, timeout=0.5)
            raise AssertionError("the held answer came early")
        except asyncio.TimeoutError:
            pass
        assert [o["status"] for o in await peer.control("/fake/orders") if o["clientOrderId"] == "xt"] == ["FILLED"]
        # ... or the connection closes without an answer.
        await peer.control("/fake/behaviour", {"name": "order_timeout_after_execute", "count": 1, "close": True})
        try:
            await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001", newClientOrderId="xc")
            raise AssertionError("an answer came")
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError):
            pass
        assert [o["status"] for o in await peer.control("/fake/orders") if o["clientOrderId"] == "xc"] == ["FILLED"]
        # ticker_5xx: the last price cannot be read, then it can.
        await peer.control("/fake/behaviour", {"name": "ticker_5xx", "count": 1})
        status, _, body = await peer.raw("GET", "/api/v3/ticker/price", "symbol=BTCUSDT")
        assert status == 503 and body["code"] == -1008, body
        assert "price" in ok(await peer.raw("GET", "/api/v3/ticker/price", "symbol=BTCUSDT"))
        # order_1007_execute_later: -1007 at once, nothing executed yet; executed a moment later.
        await peer.control("/fake/behaviour", {"name": "order_1007_execute_later", "count": 1, "seconds": 0.5})
        status, _, body = await peer.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001", newClientOrderId="xl")
        assert status == 503 and body["code"] == -1007, body
        assert not [o for o in await peer.control("/fake/orders") if o["clientOrderId"] == "xl"]
        await asyncio.sleep(1)
        assert [o["status"] for o in await peer.control("/fake/orders") if o["clientOrderId"] == "xl"] == ["FILLED"]
        log = await peer.control("/fake/requests")
        closed = [e for e in log if e.get("params", {}).get("newClientOrderId") == "xc"]
        assert closed and closed[-1]["executed"] and closed[-1]["status"] is None
        assert all("signature" not in e["params"] for e in log)
    finally:
        await peer.control("/fake/limits", {"reset": True, "banSeconds": 120})


async def check_robustness(peer):
    status, _, body = await peer.raw("POST", "/api/v3/order", "%zz=%%&&=&", headers={"X-MBX-APIKEY": API_KEY})
    assert status == 400 and isinstance(body, dict) and "code" in body, (status, body)
    status, _, body = await peer.raw("GET", "/api/v3/nothing")
    assert status == 404
    status, _, body = await peer.raw("POST", "/api/v3/order", body="\xff\xfe garbage", headers={"X-MBX-APIKEY": API_KEY})
    assert status == 400 and "code" in body
    with open(peer.log_file) as f:
        assert "Traceback" not in f.read(), "the fake logged a traceback"


def check_lifecycle(tmp):
    """SIGTERM ends the fake cleanly; it also exits by itself when its parent dies."""
    port_file = os.path.join(tmp, "port2")
    proc = subprocess.Popen([sys.executable, FAKE, "--port-file", port_file, "--log", os.path.join(tmp, "fake2.log")])
    deadline = time.time() + 15
    while not os.path.exists(port_file):
        assert time.time() < deadline
        time.sleep(0.05)
    # SIGTERM while an executed order's answer is held: the fake still exits at once, without answering.
    port = int(open(port_file).read())
    arm = urllib.request.Request(f"http://127.0.0.1:{port}/fake/behaviour", method="POST", data=json.dumps(
        {"name": "order_timeout_after_execute", "count": 1, "seconds": 60}).encode())
    urllib.request.urlopen(arm, timeout=5).read()
    query = encode({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001", "timestamp": now_ms()})
    held = urllib.request.Request(f"http://127.0.0.1:{port}/api/v3/order?{query}&signature="
                                  + hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest(),
                                  method="POST", headers={"X-MBX-APIKEY": API_KEY})
    outcome = []

    def send():
        try:
            outcome.append(urllib.request.urlopen(held, timeout=30).status)
        except Exception as error:  # the expected end: no answer
            outcome.append(type(error).__name__)
    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(0.5)
    stopped = time.time()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert time.time() - stopped < 3, "SIGTERM waited on a held answer"
    sender.join(10)
    assert outcome and outcome[0] != 200, outcome
    port_file = os.path.join(tmp, "port3")
    shell = subprocess.run(["sh", "-c", f'"{sys.executable}" "{FAKE}" --port-file "{port_file}" '
                            f'--log "{os.path.join(tmp, "fake3.log")}" & echo $!; sleep 1.5'],
                           capture_output=True, text=True, timeout=20)
    orphan = int(shell.stdout.strip().splitlines()[-1])
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            os.kill(orphan, 0)
        except ProcessLookupError:
            return
        try:  # reap it if we became its parent (sub-reaper)
            os.waitpid(orphan, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    os.kill(orphan, signal.SIGKILL)
    raise AssertionError("the fake outlived its parent")


CHECKS = [check_public, check_documented_hmac_vector, check_security_errors, check_market_orders, check_limit_orders,
          check_order_rejections, check_commissions, check_my_trades, check_partial_fills_and_user_data,
          check_ws_api_misc, check_market_streams, check_pings, check_rate_limits, check_behaviours, check_robustness]


async def run_checks(peer):
    passed, failed = 0, 0
    async with aiohttp.ClientSession() as session:
        peer.session = session
        for check in CHECKS:
            started = time.time()
            try:
                await check(peer)
                passed += 1
                print(f"ok   {check.__name__} ({time.time() - started:.1f} s)")
            except Exception:
                failed += 1
                print(f"FAIL {check.__name__}")
                traceback.print_exc()
    return passed, failed


def main():
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="fake-binance-check-") as tmp:
        peer = Peer(tmp)
        peer.start()
        try:
            passed, failed = asyncio.run(run_checks(peer))
        finally:
            peer.proc.send_signal(signal.SIGTERM)
            code = peer.proc.wait(timeout=10)
        if code != 0:
            failed += 1
            print(f"FAIL the fake exited with {code} on SIGTERM")
        try:
            check_lifecycle(tmp)
            passed += 1
            print("ok   check_lifecycle")
        except Exception:
            failed += 1
            print("FAIL check_lifecycle")
            traceback.print_exc()
        if failed:
            print("---- fake log (tail)")
            print("".join(open(peer.log_file).readlines()[-40:]))
    print(f"fake_binance: {passed} passed, {failed} failed ({time.time() - started:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
