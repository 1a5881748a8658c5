"""How times and durations are written for people, in one place for every view."""

from __future__ import annotations

import time


def local_time(ts: float | None) -> str:
    """`2026-11-21 14:16:25` in local time, or `-` when there is no time."""
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def local_clock(ts: float | None) -> str:
    """`14:16:25` in local time, or `-` when there is no time."""
    return "-" if ts is None else time.strftime("%H:%M:%S", time.localtime(ts))


def utc_minute(ts: float | None) -> str:
    """`2025-10-23 08:10Z`, or `-` when there is no time."""
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%MZ", time.gmtime(ts))


def utc_second(ts: float | None) -> str:
    """`2025-10-23 08:10:05Z`, or `-` when there is no time."""
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts))


def human_duration(seconds: float | None) -> str:
    """`42s`, `5m07s`, `3h05m`, `2d04h`, or `-`."""
    if seconds is None:
        return "-"
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{(whole % 3600) // 60:02d}m"
    return f"{whole // 86400}d{(whole % 86400) // 3600:02d}h"
