"""The type of a simpy process body, named once instead of spelt out at every process."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

import simpy

_Result = TypeVar("_Result")

SimProcess = Generator[simpy.Event, Any, _Result]
"""A simpy process body returning `_Result`: it yields events and is sent each event's
value when it fires. The sent value is Any because simpy sends whatever the event carries
(an HTTP response, a condition's values, None); each process knows what it waited for."""
