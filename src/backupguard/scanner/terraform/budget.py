"""Evaluation budgets: a few hostile bytes must never take minutes or gigabytes.

Terraform configurations come from pull requests by strangers. ``count = 100000000``,
``format("%999999999d", 1)``, a string or list doubled through twenty locals,
``setproduct`` of three 1,000-item lists or two nested ``range(1000)`` for-expressions
are each a few bytes that would exhaust the machine. Every limit below is far above what
a real backup configuration needs (the corpus stays two orders of magnitude below each),
and excess is a :class:`BudgetExceeded`: a located error for the module being evaluated,
never a hang, a MemoryError or a silent guess.

The evaluator (:mod:`evaluate`), the function library (:mod:`functions`) and the module
loader (:mod:`module`) all check through the helpers here, so the limits live in one place.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

# Terraform itself refuses nothing here; these are our own resource limits.
MAX_INSTANCES = 10_000
"""Instances of one resource or module call (count / for_each): real backup stacks have a handful."""

MAX_STRING_CHARS = 1 << 20
"""Characters in one string value (1 MiB): policies and names are a few KiB at most."""

MAX_COLLECTION_ITEMS = 100_000
"""Elements of one list, set, map or object (and of the result of a function building one)."""

MAX_NUMBER_BITS = 4096
"""Bits of an integer (about 1,233 digits): Terraform's numbers are 512-bit floats; beyond this,
arithmetic on Python's big integers (repeated squaring) grows without bound."""

MAX_WORK = 1_000_000
"""Evaluation steps (expressions evaluated, values walked, elements built) per root module with
its called modules: one to three seconds of work. The largest module of the shared corpus takes
under 3,000 steps, so this leaves a margin of more than 300 times."""

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Size of one .tf / .tf.json / .tfvars file read (the CloudFormation cap): the parser's memory
grows with the input, and a 50 MB .tf took 9 GB. Files read by ``file()`` / ``templatefile()``
have the same cap."""



class BudgetExceeded(Exception):
    """A limit above was passed; ``line``/``column`` point at the expression when known.

    Deliberately not an ``EvalError``: ``try()`` and ``can()`` must not swallow it.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class WorkExhausted(BudgetExceeded):
    """The total work of a module load ran out: the whole load stops (every later step would too)."""


class _Meter:
    __slots__ = ("left",)

    def __init__(self, left: int):
        self.left = left


_meter = _Meter(MAX_WORK)


@contextlib.contextmanager
def metered(work: int = MAX_WORK) -> Iterator[None]:
    """A fresh work allowance for one module load (restored afterwards: loads may nest)."""
    global _meter
    previous, _meter = _meter, _Meter(work)
    try:
        yield
    finally:
        _meter = previous


def spend(units: int = 1) -> None:
    """Count ``units`` of work; :class:`WorkExhausted` when the allowance is gone."""
    meter = _meter
    meter.left -= units
    if meter.left < 0:
        meter.left = 0  # stays exhausted, without growing ever more negative
        raise WorkExhausted(f"evaluation takes more than {MAX_WORK:,} steps; the module is too costly to evaluate")


def check_instances(count: int, what: str) -> None:
    if count > MAX_INSTANCES:
        raise BudgetExceeded(f"{what} would create {_amount(count)} instances; more than {MAX_INSTANCES:,} are not evaluated")


def check_length(length: int, what: str = "a string") -> None:
    """A string about to be built: refuse it before it is allocated."""
    if length > MAX_STRING_CHARS:
        raise BudgetExceeded(f"{what} would be longer than {MAX_STRING_CHARS:,} characters")


def check_items(count: int, what: str = "a collection") -> None:
    """A collection about to be built: refuse it before it is allocated."""
    if count > MAX_COLLECTION_ITEMS:
        raise BudgetExceeded(f"{what} would have more than {MAX_COLLECTION_ITEMS:,} elements")


def check_number(value: Any) -> Any:
    """``value`` itself, unless it is an integer too large to compute with."""
    if type(value) is int and value.bit_length() > MAX_NUMBER_BITS:
        raise BudgetExceeded(f"a number has more than {MAX_NUMBER_BITS:,} bits (about 1,233 digits)")
    return value


def check_value(value: Any) -> Any:
    """A value just built (a function's result): its size counted as work and checked."""
    if isinstance(value, str):
        check_length(len(value))
        spend(1 + len(value) // 256)
    elif isinstance(value, (list, dict)):
        check_items(len(value))
        spend(1 + len(value))
    else:
        check_number(value)
    return value


def too_large() -> str:
    """How a file over :data:`MAX_FILE_BYTES` is described in errors ("file is larger than 20 MiB")."""
    return f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"


def read_capped(path: Path) -> bytes | None:
    """The bytes of ``path``, or None when it holds more than :data:`MAX_FILE_BYTES` (one byte more
    is read to tell, never the rest: a hostile 10 GB file costs 20 MiB). ``OSError`` propagates."""
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    return None if len(data) > MAX_FILE_BYTES else data


def _amount(count: int) -> str:
    return f"{count:,}" if count.bit_length() <= 64 else "more than 2^64"
