#!/usr/bin/env python3
"""A fake Binance Spot exchange for BAGBOT's tests; see Tests/Peers/README.md.

python fake_binance.py --port-file PATH [--port 0] [--api-key KEY] [--hmac-secret SECRET]
    [--ed25519-public-key PEMFILE] [--symbols BTCUSDT,ETHUSDT] [--balances USDT=10000,BTC=0,ETH=0] [--log PATH]
The code is in the package fake_binance/ beside this file.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_binance.server import main  # noqa: E402  (the package directory, not this file)

if __name__ == "__main__":
    sys.exit(main())
