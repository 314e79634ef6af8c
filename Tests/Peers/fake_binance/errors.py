"""Binance's error payloads, each with the code and message errors.md gives (or the endpoint doc quotes)."""


class ApiError(Exception):
    """An answer `{"code": ..., "msg": ...}` with its HTTP status (rest-api.md "Error Codes")."""

    def __init__(self, status, code, msg, headers=None, data=None):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg
        self.headers = headers or {}
        self.data = data  # WebSocket API `error.data` (web-socket-api.md "IP limits")

    def body(self):
        return {"code": self.code, "msg": self.msg}


DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
LONG_RANGE = r"^-?[0-9]{1,20}$"
CLIENT_ID_RANGE = r"^[a-zA-Z0-9-_]{1,36}$"


# errors.md "10xx - General Server or Network issues"
def unknown():
    return ApiError(500, -1000, "An unknown error occurred while processing the request.")


def disconnected(status=503):
    return ApiError(status, -1001, "Internal error; unable to process your request. Please try again.")


def unexpected_resp(status=503):
    return ApiError(status, -1006, "An unexpected response was received from the message bus. Execution status unknown.")


def timeout(status=503):
    return ApiError(status, -1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown.")


def server_busy(status=503):
    return ApiError(status, -1008, "Server is currently overloaded with other requests. Please try again in a few minutes.")


SERVER_ERRORS = {-1001: disconnected, -1006: unexpected_resp, -1007: timeout, -1008: server_busy}


def unauthorized():
    return ApiError(401, -1002, "You are not authorized to execute this request.")


def too_much_weight(limit):
    return ApiError(429, -1003, f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
                    "Please use WebSocket Streams for live updates to avoid polling the API.")


def banned(until_ms):
    return ApiError(418, -1003, f"Way too much request weight used; IP banned until {until_ms}. "
                    "Please use WebSocket Streams for live updates to avoid bans.")


def too_many_orders(limit, interval):
    return ApiError(429, -1015, f"Too many new orders; current limit is {limit} orders per {interval}.")


def unsupported_operation():
    return ApiError(400, -1020, "This operation is not supported.")


def outside_recv_window():
    return ApiError(400, -1021, "Timestamp for this request is outside of the recvWindow.")


def ahead_of_server():
    return ApiError(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")


def bad_signature():
    return ApiError(400, -1022, "Signature for this request is not valid.")


# errors.md "11xx - Request issues"
def illegal_chars(name, legal):
    return ApiError(400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def duplicate_param():
    return ApiError(400, -1101, "Duplicate values for a parameter detected.")


def mandatory(name):
    return ApiError(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def either(first, second):
    return ApiError(400, -1102, f"Param '{first}' or '{second}' must be sent, but both were empty/null!")


def greater_than(name, limit):
    return ApiError(400, -1102, f"'{name}' contains unexpected value. Cannot be greater than {limit}.")


def unread(read, sent):
    return ApiError(400, -1104, f"Not all sent parameters were read; read '{read}' parameter(s) but was sent '{sent}'.")


def empty(name):
    return ApiError(400, -1105, f"Parameter '{name}' was empty.")


def not_required(name):
    return ApiError(400, -1106, f"Parameter '{name}' sent when not required.")


def too_much_precision(name):
    return ApiError(400, -1111, f"Parameter '{name}' has too much precision.")


def invalid_tif():
    return ApiError(400, -1115, "Invalid timeInForce.")


def invalid_order_type():
    return ApiError(400, -1116, "Invalid orderType.")


def invalid_side():
    return ApiError(400, -1117, "Invalid side.")


def empty_new_client_order_id():
    return ApiError(400, -1118, "New client order ID was empty.")


def empty_orig_client_order_id():
    return ApiError(400, -1119, "Original client order ID was empty.")


def bad_symbol():
    return ApiError(400, -1121, "Invalid symbol.")


def interval_too_big(hours=24):
    return ApiError(400, -1127, f"More than {hours} hours between startTime and endTime.")


def bad_combination():
    return ApiError(400, -1128, "Combination of optional parameters invalid.")


def invalid_parameter(name):
    return ApiError(400, -1130, f"Data sent for parameter '{name}' is not valid.")


def invalid_json():
    return ApiError(400, -1135, "Invalid JSON Request")


def invalid_cancel_restrictions():
    # rest-api.md "Regarding cancelRestrictions" quotes this exact payload.
    return ApiError(400, -1145, "Invalid cancelRestrictions")


# errors.md "-2010 NEW_ORDER_REJECTED ... -2039"; messages from "Messages for -1010, -2010, -2011 and -2038".
def filter_failure(name):
    return ApiError(400, -1013, f"Filter failure: {name}")


def order_rejected(msg):
    return ApiError(400, -2010, msg)


def cancel_rejected(msg="Unknown order sent."):
    return ApiError(400, -2011, msg)


def no_such_order():
    return ApiError(400, -2013, "Order does not exist.")


def bad_api_key_format():
    return ApiError(401, -2014, "API-key format invalid.")


def rejected_api_key():
    return ApiError(401, -2015, "Invalid API-key, IP, or permissions for action.")


def subscription_active():
    return ApiError(400, -2035, "User Data Stream subscription already active.")


def subscription_inactive():
    return ApiError(400, -2036, "User Data Stream subscription not active.")


def client_order_id_mismatch():
    return ApiError(400, -2039, "Client order ID is not correct for this order ID.")
