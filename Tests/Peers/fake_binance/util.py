"""Clock, decimal formatting and parameter reading shared by the REST and WebSocket APIs."""
import json
import re
import time
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from . import errors

Q8 = Decimal("0.00000001")
ZERO = Decimal(0)


class Clock:
    """The server's clock: wall time plus the offset set by POST /fake/clock."""

    def __init__(self):
        self.offset_ms = 0

    def now_ms(self):
        return int(time.time() * 1000) + self.offset_ms


def f8(value):
    """A decimal as Binance writes prices and quantities: a string with 8 decimals ("0.00100000")."""
    value = Decimal(value).quantize(Q8, rounding=ROUND_HALF_UP)
    return format(value if value != 0 else ZERO.quantize(Q8), "f")


def q8(value):
    """Rounded to 8 decimals, the precision of every amount the fake keeps (commissions)."""
    return Decimal(value).quantize(Q8, rounding=ROUND_HALF_UP)


def floor_to_step(value, step):
    """The largest multiple of `step` not above `value` (step 0 = no rounding)."""
    if step == 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def to_param_text(value):
    """A WebSocket API JSON parameter as the text a REST parameter would carry."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


class Params:
    """Typed reading of one request's parameters (name -> text), with Binance's errors for bad values."""

    def __init__(self, values):
        self.values = dict(values)

    def raw(self, name, required=False):
        """The text of `name`, or None. An empty value: -1102 when mandatory, else -1105 (errors.md)."""
        value = self.values.get(name)
        if value is None:
            if required:
                raise errors.mandatory(name)
            return None
        if value == "":
            raise errors.mandatory(name) if required else errors.empty(name)
        return value

    def string(self, name, required=False):
        return self.raw(name, required)

    def decimal(self, name, required=False):
        """A DECIMAL parameter: digits with an optional fraction (errors.md -1100), at most 8 decimals (-1111)."""
        value = self.raw(name, required)
        if value is None:
            return None
        if not re.fullmatch(errors.DECIMAL_RANGE, value):
            raise errors.illegal_chars(name, errors.DECIMAL_RANGE)
        if "." in value and len(value.split(".", 1)[1]) > 8:
            raise errors.too_much_precision(name)
        return Decimal(value)

    def long(self, name, required=False):
        value = self.raw(name, required)
        if value is None:
            return None
        if not re.fullmatch(errors.LONG_RANGE, value):
            raise errors.illegal_chars(name, errors.LONG_RANGE)
        return int(value)

    def boolean(self, name):
        value = self.raw(name)
        if value is None:
            return None
        if value.lower() not in ("true", "false"):
            raise errors.invalid_parameter(name)
        return value.lower() == "true"

    def enum(self, name, allowed, error, required=False):
        value = self.raw(name, required)
        if value is not None and value not in allowed:
            raise error() if callable(error) else error
        return value

    def recv_window(self):
        """`recvWindow`: milliseconds with up to 3 decimals, at most 60000, default 5000 (rest-api.md "Timing security")."""
        value = self.raw("recvWindow")
        if value is None:
            return Decimal(5000)
        if not re.fullmatch(r"^[0-9]{1,20}(\.[0-9]{1,3})?$", value):
            raise errors.illegal_chars("recvWindow", errors.DECIMAL_RANGE)
        window = Decimal(value)
        if window > 60000:
            raise errors.greater_than("recvWindow", 60000)
        return window



def parse_timestamp_ms(value):
    """A timestamp parameter in milliseconds, or microseconds (16+ digits) as rest-api.md allows, as ms (Decimal)."""
    number = Decimal(value)
    return number / 1000 if number >= Decimal(10) ** 15 else number


def json_symbols(text, name="symbols"):
    """The `symbols` parameter: a JSON array of names (rest-api.md "Exchange information")."""
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        raise errors.invalid_json()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise errors.invalid_parameter(name)
    return value


__all__ = ["Clock", "Params", "f8", "q8", "floor_to_step", "to_param_text", "parse_timestamp_ms", "json_symbols",
           "Decimal", "InvalidOperation", "ZERO"]
