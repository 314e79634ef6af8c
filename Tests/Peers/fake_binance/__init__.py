"""A fake Binance Spot exchange for BAGBOT's tests (see Tests/Peers/README.md).

It speaks Binance's wire protocol as documented in binance-spot-api-docs (rest-api.md, web-socket-api.md,
web-socket-streams.md, user-data-stream.md, errors.md, filters.md, enums.md) on 127.0.0.1 only.
Run it with `python Tests/Peers/fake_binance.py --port-file PATH ...`.
"""
