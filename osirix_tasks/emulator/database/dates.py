"""Dates as OsiriX keeps them and as the OsiriXgrpc plugin encodes them.

OsiriX stores times to the millisecond in an NSDate (a double: seconds since 2001-01-01 00:00).
The plugin answers calendar components in local time plus a ``millisecond`` field that it fills
with ``1000 x nanosecond`` computed in a signed 32-bit int, the nanosecond being read from that
double. We reproduce the arithmetic exactly (e.g. .530 s -> 529999971 ns -> 1718993592).
"""

from __future__ import annotations

import datetime as dt
import math
import re

__all__ = ["parse_dicom_datetime", "date_components", "birth_components"]

_REFERENCE = dt.datetime(2001, 1, 1)
_TIME = re.compile(r"^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?$")


def parse_dicom_datetime(date: str | None, time: str | None) -> dt.datetime | None:
    """DA + TM as a naive local datetime, truncated to the millisecond as OsiriX keeps it."""
    if not date:
        return None
    date = date.strip().replace(".", "").replace("-", "")
    try:
        day = dt.datetime.strptime(date[:8], "%Y%m%d")
    except ValueError:
        return None
    match = _TIME.match((time or "").strip().replace(":", ""))
    if not match:
        return day
    hour, minute, second, fraction = match.groups()
    millis = int((fraction or "0").ljust(6, "0")[:3])
    try:
        return day.replace(hour=int(hour), minute=int(minute or 0), second=int(second or 0), microsecond=millis * 1000)
    except ValueError:
        return day


def _wrap_int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= (1 << 31) else value


def date_components(moment: dt.datetime) -> dict[str, int]:
    """The fields of a DicomStudyDate / DicomSeriesDate / DicomImageDate response."""
    delta = moment - _REFERENCE
    seconds = delta.days * 86400 + delta.seconds + delta.microseconds / 1e6  # the NSDate double
    nanosecond = int((seconds - math.floor(seconds)) * 1e9)
    return {
        "year": moment.year,
        "month": moment.month,
        "day": moment.day,
        "hour": moment.hour,
        "minute": moment.minute,
        "second": moment.second,
        "millisecond": _wrap_int32(1000 * nanosecond),
    }


def birth_components(date: str | None) -> dict[str, int] | None:
    """Year, month, day of a DICOM DA, or None when absent or unreadable."""
    moment = parse_dicom_datetime(date, None)
    if moment is None:
        return None
    return {"year": moment.year, "month": moment.month, "day": moment.day}
