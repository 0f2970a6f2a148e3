"""Run-time fault switches that make the sandbox misbehave the way a real Horizon can.

Each switch is independent and can be reset on its own; all are off by default.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

MAX_LAG_LEDGERS = 100


@dataclass
class OutageWindow:
    """Answer every request with one error status for N requests and/or T seconds."""

    requests_left: int | None = None
    until: float | None = None

    def active(self) -> bool:
        if self.requests_left is None and self.until is None:
            return False
        if self.until is not None and time.monotonic() >= self.until:
            self.requests_left = None
            self.until = None
            return False
        return self.requests_left is None or self.requests_left > 0

    def consume(self) -> bool:
        """True when this request must fail; counts it against the request budget."""
        if not self.active():
            return False
        if self.requests_left is not None:
            self.requests_left -= 1
            if self.requests_left <= 0 and self.until is None:
                self.requests_left = None
        return True

    def describe(self) -> dict[str, Any] | None:
        if not self.active():
            return None
        seconds = None if self.until is None else max(0.0, self.until - time.monotonic())
        return {"requests": self.requests_left, "seconds": seconds}


@dataclass
class Faults:
    """The fault switches. Counters count down as they fire; 0/None means off."""

    submit_timeouts: int = 0
    """Next N accepted submissions answer 504 `timeout` but are still applied."""
    bad_seq: int = 0
    """Next N submissions answer `tx_bad_seq` and are not applied."""
    stream_close_after: int | None = None
    """Streams opened while set end after sending this many records."""
    lag_ledgers: int = 0
    """Reads of ledgers, accounts and transactions-by-hash show the state N ledgers ago."""
    rate_limited: OutageWindow = field(default_factory=OutageWindow)
    """Answer 429 `rate_limit_exceeded` to Horizon requests."""
    unavailable: OutageWindow = field(default_factory=OutageWindow)
    """Answer 503 `service_unavailable` to Horizon requests."""

    NAMES = (
        "submit_timeouts",
        "bad_seq",
        "stream_close_after",
        "lag_ledgers",
        "rate_limited",
        "unavailable",
    )

    def fail_next_submissions_with_timeout(self, count: int = 1) -> None:
        self.submit_timeouts = _non_negative(count, "submit_timeouts")

    def fail_next_submissions_with_bad_seq(self, count: int = 1) -> None:
        self.bad_seq = _non_negative(count, "bad_seq")

    def close_streams_after(self, events: int | None) -> None:
        self.stream_close_after = None if events is None else _non_negative(events, "events")

    def lag(self, ledgers: int) -> None:
        ledgers = _non_negative(ledgers, "lag_ledgers")
        if ledgers > MAX_LAG_LEDGERS:
            raise ValueError(f"lag_ledgers may be at most {MAX_LAG_LEDGERS}")
        self.lag_ledgers = ledgers

    def rate_limit(self, requests: int | None = None, seconds: float | None = None) -> None:
        self.rate_limited = _window(requests, seconds)

    def make_unavailable(self, requests: int | None = None, seconds: float | None = None) -> None:
        self.unavailable = _window(requests, seconds)

    def take_submit_timeout(self) -> bool:
        if self.submit_timeouts > 0:
            self.submit_timeouts -= 1
            return True
        return False

    def take_bad_seq(self) -> bool:
        if self.bad_seq > 0:
            self.bad_seq -= 1
            return True
        return False

    def reset(self, name: str | None = None) -> None:
        """Switch one fault (or all of them) off."""
        fresh = Faults()
        names = self.NAMES if name is None else (name,)
        for one in names:
            if one not in self.NAMES:
                raise KeyError(one)
            setattr(self, one, getattr(fresh, one))

    def apply(self, settings: dict[str, Any]) -> None:
        """Set switches from a JSON object, as the admin endpoint receives it."""
        unknown = set(settings) - set(self.NAMES)
        if unknown:
            raise KeyError(", ".join(sorted(unknown)))
        if "submit_timeouts" in settings:
            self.fail_next_submissions_with_timeout(int(settings["submit_timeouts"]))
        if "bad_seq" in settings:
            self.fail_next_submissions_with_bad_seq(int(settings["bad_seq"]))
        if "stream_close_after" in settings:
            value = settings["stream_close_after"]
            self.close_streams_after(None if value is None else int(value))
        if "lag_ledgers" in settings:
            self.lag(int(settings["lag_ledgers"]))
        for name, setter in (
            ("rate_limited", self.rate_limit),
            ("unavailable", self.make_unavailable),
        ):
            if name in settings:
                value = settings[name] or {}
                if not isinstance(value, dict):
                    raise ValueError(f"{name} takes an object {{requests, seconds}}")
                requests = value.get("requests")
                seconds = value.get("seconds")
                setter(
                    None if requests is None else int(requests),
                    None if seconds is None else float(seconds),
                )

    def describe(self) -> dict[str, Any]:
        return {
            "submit_timeouts": self.submit_timeouts,
            "bad_seq": self.bad_seq,
            "stream_close_after": self.stream_close_after,
            "lag_ledgers": self.lag_ledgers,
            "rate_limited": self.rate_limited.describe(),
            "unavailable": self.unavailable.describe(),
        }


def _non_negative(value: int, name: str) -> int:
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value


def _window(requests: int | None, seconds: float | None) -> OutageWindow:
    if requests is None and seconds is None:
        raise ValueError("give requests and/or seconds")
    if requests is not None and requests <= 0:
        raise ValueError("requests must be positive")
    if seconds is not None and seconds <= 0:
        raise ValueError("seconds must be positive")
    until = None if seconds is None else time.monotonic() + seconds
    return OutageWindow(requests_left=requests, until=until)
