"""The BitMEX price oracle of examples/bitmex-oracle, in Python: the same world, the same
request upstream, the same answers and the same signed messages (docs/oracle.md), so that a
machine of either signs the same prices. Only the standard library and `carol_guest`.
"""

import json
import math
import re
from decimal import Decimal

import carol_guest
import wit_world
from componentize_py_types import Err
from wit_world import (
    BitAttestation,
    BitsAttestation,
    OracleError_BadInput,
    OracleError_BadParams,
    OracleError_BadUpstreamAnswer,
    OracleError_Denied,
    OracleError_NoPrice,
    OracleError_UpstreamFailed,
    PriceAttestation,
    UpstreamFailure,
)
from wit_world.imports import http_fetch

# Where prices come from when the machine's params are empty.
DEFAULT_API_BASE = "https://www.bitmex.com"
# The endpoint, under the api base, that lists an index's ticks and those of its constituents.
COMPOSITE_INDEX_PATH = "/api/v1/instrument/compositeIndex"
# The columns asked for: those the oracle reads. BitMEX may send more.
COLUMNS = "symbol,reference,timestamp,lastPrice"
# BitMEX's `reference` of the composite index tick itself.
COMPOSITE_REFERENCE = "BMI"
# Longer than any BitMEX index symbol; keeps signed messages small.
MAX_SYMBOL_BYTES = 100
# How much of an upstream error body is passed on.
MAX_ERROR_CHARS = 300
# Domain separation of the two kinds of signed messages (docs/oracle.md).
PRICE_TAG = b"carol-bitmex-oracle/price/v1"
BIT_TAG = b"carol-bitmex-oracle/bit/v1"


class WitWorld(wit_world.WitWorld):
    def attest_to_price_at_minute(self, time: str, symbol: str) -> PriceAttestation:
        minute = Minute.parse(time)
        check_symbol(symbol)
        price = Source.from_params().price_at(symbol, minute)
        signature = carol_guest.sign(price_message(symbol, minute.unix_time, price))
        return PriceAttestation(
            symbol=symbol,
            minute=minute.rfc3339(),
            unix_time=minute.unix_time,
            price=price,
            signature=signature,
        )

    def bit_decompose_attest_to_price_at_minute(
        self, time: str, symbol: str, n_bits: int
    ) -> BitsAttestation:
        minute = Minute.parse(time)
        check_symbol(symbol)
        if not 1 <= n_bits <= 64:
            raise Err(OracleError_BadInput(f"n-bits must be 1 to 64, not {n_bits}"))
        price = Source.from_params().price_at(symbol, minute)
        price = min(price, (1 << n_bits) - 1)
        bits = []
        for index in range(n_bits):
            value = (price >> (n_bits - 1 - index)) & 1 == 1
            message = bit_message(symbol, minute.unix_time, n_bits, index, value)
            bits.append(BitAttestation(value=value, signature=carol_guest.sign(message)))
        return BitsAttestation(
            symbol=symbol,
            minute=minute.rfc3339(),
            unix_time=minute.unix_time,
            n_bits=n_bits,
            price=price,
            bits=bits,
        )

    def price_source(self) -> str:
        return Source.from_params().api_base


def price_message(symbol: str, unix_time: int, price: int) -> bytes:
    """The price message: what `attest-to-price-at-minute` signs."""
    return event(PRICE_TAG, symbol, unix_time) + price.to_bytes(8, "big")


def bit_message(symbol: str, unix_time: int, n_bits: int, index: int, value: bool) -> bytes:
    """The bit message: what the bit decomposition signs for each bit; index 0 is the most
    significant bit."""
    return event(BIT_TAG, symbol, unix_time) + bytes([n_bits, index, int(value)])


def event(tag: bytes, symbol: str, unix_time: int) -> bytes:
    """The start both messages share: tag, length-prefixed symbol, minute."""
    encoded = symbol.encode()
    return (
        tag
        + len(encoded).to_bytes(4, "big")
        + encoded
        + unix_time.to_bytes(8, "big", signed=True)
    )


def check_symbol(symbol: str) -> None:
    if not symbol:
        raise Err(
            OracleError_BadInput("the symbol is empty; BitMEX index symbols look like `.BXBT`")
        )
    length = len(symbol.encode())
    if length > MAX_SYMBOL_BYTES:
        raise Err(
            OracleError_BadInput(
                f"the symbol is {length} bytes long; index symbols have at most "
                f"{MAX_SYMBOL_BYTES}"
            )
        )


# RFC 3339 `date-time` (section 5.6) as the Rust machine's parser (the `time` crate) reads it:
# any one ASCII character between the date and the time (the RFC allows a space for `T`), `z`
# for `Z`, any number of fraction digits.
RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[\x00-\x7f](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?"
    r"(?:[Zz]|([+-])(\d{2}):(\d{2}))",
    re.ASCII | re.DOTALL,
)


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def civil_from_days(days: int):
    """The proleptic Gregorian (year, month, day) of days since 1970-01-01."""
    days += 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    mp = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return year_of_era + era * 400 + (month <= 2), month, day


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_rfc3339(text: str):
    """An RFC 3339 time as whole seconds since the Unix epoch (the fraction dropped), or None.

    A leap second (`:60`) stands for the nanosecond before it, and only at the end of a month
    in UTC, where leap seconds happen, as the `time` crate has it."""
    found = RFC3339.fullmatch(text)
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    sign, offset_hour, offset_minute = found.groups()[6:]
    if not (1 <= month <= 12 and 1 <= day <= days_in_month(year, month)):
        return None
    leap = second == 60
    second = 59 if leap else second
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset = 0
    if sign is not None:
        if int(offset_hour) > 23 or int(offset_minute) > 59:
            return None
        offset = (int(offset_hour) * 60 + int(offset_minute)) * 60
        offset = -offset if sign == "-" else offset
    seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    seconds -= offset
    if leap:
        days, of_day = divmod(seconds, 86400)
        utc_year, utc_month, utc_day = civil_from_days(days)
        if of_day != 86399 or utc_day != days_in_month(utc_year, utc_month):
            return None
    return seconds


class Minute:
    """A minute in UTC."""

    def __init__(self, unix_time: int):
        # Seconds since the Unix epoch, a multiple of 60.
        self.unix_time = unix_time
        days, seconds = divmod(unix_time, 86400)
        self.year, self.month, self.day = civil_from_days(days)
        self.hour, self.minute = seconds // 3600, seconds % 3600 // 60

    @staticmethod
    def parse(text: str) -> "Minute":
        """Reads an RFC 3339 time and truncates it to its minute in UTC."""
        parsed = parse_rfc3339(text)
        if parsed is None:
            raise Err(
                OracleError_BadInput(
                    f"`{text}` is not an RFC 3339 time such as 2023-04-16T12:30:00Z"
                )
            )
        minute = Minute(parsed - parsed % 60)
        if not 0 <= minute.year <= 9999:
            raise Err(
                OracleError_BadInput(f"`{text}` is outside the years 0000 to 9999 in UTC")
            )
        return minute

    def date(self) -> str:
        """`2023-04-16`, as BitMEX's `timestamp.date` filter takes it."""
        return f"{self.year:04}-{self.month:02}-{self.day:02}"

    def rfc3339(self) -> str:
        """`2023-04-16T12:30:00Z`."""
        return f"{self.date()}T{self.hour:02}:{self.minute:02}:00Z"

    def first_second_contains(self, instant: int) -> bool:
        """Whether `instant` (whole seconds) falls in the first second of this minute, which
        is what the request's filter selects."""
        return instant == self.unix_time


def form_encode(pairs) -> str:
    """application/x-www-form-urlencoded, byte for byte as the WHATWG URL standard (and the
    Rust machine's `form_urlencoded`) writes it."""
    safe = b"*-._"

    def encode(text: str) -> str:
        return "".join(
            chr(b)
            if chr(b).isalnum() and b < 128 or b in safe
            else "+"
            if b == 0x20
            else f"%{b:02X}"
            for b in text.encode()
        )

    return "&".join(f"{encode(key)}={encode(value)}" for key, value in pairs)


# Keys the Rust machine's parser (serde) refuses to see twice in one object.
KNOWN_KEYS = {"api_base", "symbol", "reference", "timestamp", "lastPrice", "error", "message"}


def no_duplicate_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen and key in KNOWN_KEYS:
            raise ValueError(f"duplicate field `{key}`")
        seen[key] = value
    return seen


def finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


# serde_json refuses lists and objects nested deeper than this.
MAX_JSON_DEPTH = 127


def check_depth(text: str) -> None:
    """Raises ValueError if lists and objects in the JSON `text` nest past MAX_JSON_DEPTH."""
    depth, in_string, escaped = 0, False, False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise ValueError("recursion limit exceeded")
        elif c in "]}":
            depth -= 1


def read_json(data: bytes):
    """JSON as strictly as serde_json reads it: no NaN or Infinity, no number past a double,
    no known field twice, no nesting past its limit. Raises ValueError."""
    try:
        text = data.decode()
        check_depth(text)
        return json.loads(
            text,
            object_pairs_hook=no_duplicate_keys,
            parse_float=finite,
            parse_int=lambda text: int(finite(text)) if len(text) > 300 else int(text),
            parse_constant=no_constant,
        )
    except (UnicodeDecodeError, RecursionError, OverflowError) as e:
        raise ValueError(str(e)) from None


def display_float(value: float) -> str:
    """A double as Rust's `Display` writes it: the shortest digits, never an exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class Source:
    """Where this machine fetches prices from, as its params say."""

    def __init__(self, api_base: str):
        # Base URL without a trailing slash, e.g. `https://www.bitmex.com`.
        self.api_base = api_base

    @staticmethod
    def from_params() -> "Source":
        params = carol_guest.params()
        if not params:
            return Source(DEFAULT_API_BASE)
        usage = 'the params must be empty or JSON {"api_base": "https://..."}'
        try:
            parsed = read_json(params)
        except ValueError as e:
            raise Err(OracleError_BadParams(f"{usage}: {e}")) from None
        # Unknown fields are refused rather than ignored: the machine id commits to the params,
        # and a reader would take them at their word.
        if not isinstance(parsed, dict) or set(parsed) != {"api_base"}:
            raise Err(OracleError_BadParams(f"{usage}: the only field is api_base"))
        api_base = parsed["api_base"]
        if not isinstance(api_base, str):
            raise Err(OracleError_BadParams(f"{usage}: api_base is a string"))
        if not (api_base.startswith("https://") or api_base.startswith("http://")):
            raise Err(
                OracleError_BadParams(f"api_base `{api_base}` is not an http:// or https:// URL")
            )
        return Source(api_base.removesuffix("/"))

    def url(self, symbol: str, minute: Minute) -> str:
        """The URL of the request for `symbol` at `minute` (docs/oracle.md)."""
        filter = json.dumps(
            {
                "symbol": symbol,
                "reference": COMPOSITE_REFERENCE,
                "timestamp.date": minute.date(),
                "timestamp.hh": minute.hour,
                "timestamp.uu": minute.minute,
                "timestamp.ss": 0,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
        query = form_encode([("symbol", symbol), ("filter", filter), ("columns", COLUMNS)])
        return f"{self.api_base}{COMPOSITE_INDEX_PATH}?{query}"

    def price_at(self, symbol: str, minute: Minute) -> int:
        """The composite index price of `symbol` at `minute`, rounded down."""
        request = http_fetch.Request(
            method=http_fetch.Method.GET,
            url=self.url(symbol, minute),
            headers=[("accept", "application/json")],
            body=b"",
        )
        try:
            response = http_fetch.fetch(request)
        except Err as e:
            raise Err(fetch_error(e.value, self.api_base)) from None
        if not 200 <= response.status < 300:
            raise Err(
                OracleError_UpstreamFailed(
                    UpstreamFailure(status=response.status, message=error_message(response.body))
                )
            )
        ticks = read_ticks(response.body)
        matching = []
        for tick in ticks:
            if tick["reference"] != COMPOSITE_REFERENCE or tick["symbol"] != symbol:
                continue
            at = parse_rfc3339(tick["timestamp"])
            if at is None:
                raise Err(
                    OracleError_BadUpstreamAnswer(
                        f"a row's timestamp `{tick['timestamp']}` is not RFC 3339"
                    )
                )
            # The filter already asks for this row; checking again keeps a source that ignores
            # the filter from getting another row's price signed.
            if minute.first_second_contains(at):
                matching.append(tick)
        if not matching:
            raise Err(
                OracleError_NoPrice(
                    f"no composite index price (reference {COMPOSITE_REFERENCE}) for "
                    f"`{symbol}` at {minute.rfc3339()}"
                )
            )
        if len(matching) > 1:
            raise Err(
                OracleError_BadUpstreamAnswer(
                    f"{len(matching)} composite index rows for `{symbol}` at "
                    f"{minute.rfc3339()}, where one was expected"
                )
            )
        price = matching[0].get("lastPrice")
        if price is None:
            raise Err(
                OracleError_NoPrice(
                    f"the composite index row for `{symbol}` at {minute.rfc3339()} has no "
                    f"lastPrice"
                )
            )
        # JSON numbers are read as doubles, as the Rust machine reads them; the range also
        # leaves out NaN and the infinities.
        price = float(price)
        if not 0.0 <= price < 18446744073709551616.0:
            raise Err(
                OracleError_BadUpstreamAnswer(
                    f"lastPrice {display_float(price)} is not a price this oracle can attest to "
                    f"(0 to 2^64 - 1)"
                )
            )
        return math.floor(price)


def read_ticks(body: bytes):
    """The rows of a compositeIndex answer: a JSON list of objects with string `symbol`,
    `reference` and `timestamp` and a numeric or null `lastPrice`."""
    shape = "the answer is not a JSON list of compositeIndex rows"
    try:
        ticks = read_json(body)
    except ValueError as e:
        raise Err(OracleError_BadUpstreamAnswer(f"{shape}: {e}")) from None
    if not isinstance(ticks, list):
        raise Err(OracleError_BadUpstreamAnswer(f"{shape}: not a list"))
    for tick in ticks:
        well_formed = (
            isinstance(tick, dict)
            and all(isinstance(tick.get(key), str) for key in ("symbol", "reference", "timestamp"))
            and (
                tick.get("lastPrice") is None
                or isinstance(tick["lastPrice"], (int, float))
                and not isinstance(tick["lastPrice"], bool)
            )
        )
        if not well_formed:
            raise Err(OracleError_BadUpstreamAnswer(f"{shape}: a row is not one"))
    return ticks


def fetch_error(error, api_base: str):
    """What a failed fetch means for the caller."""
    if isinstance(error, http_fetch.Error_Denied):
        return OracleError_Denied(f"the node may not contact `{api_base}`: {error.value}")
    # The rest of the URL is built here, so a bad URL is a bad api_base.
    if isinstance(error, http_fetch.Error_InvalidUrl):
        return OracleError_BadParams(f"api_base `{api_base}` is not usable: {error.value}")
    if isinstance(error, http_fetch.Error_Timeout):
        message = f"`{api_base}` did not answer within the node's time limit"
    elif isinstance(error, http_fetch.Error_TooLarge):
        message = f"`{api_base}` answered with more than the node accepts"
    else:
        message = error.value
    return OracleError_UpstreamFailed(UpstreamFailure(status=None, message=message))


def error_message(body: bytes) -> str:
    """The message of a BitMEX error body, else the start of the body as text."""
    try:
        message = read_json(body)["error"]["message"]
        if isinstance(message, str):
            return message
    except (ValueError, KeyError, TypeError):
        pass
    return body.decode("utf-8", errors="replace")[:MAX_ERROR_CHARS]
