"""JMESPath functions for rule conditions, where plain JMESPath cannot say it.

JMESPath filters cannot see the rule's parameters from inside a list (``params``
is out of scope there), so membership tests against a parameter list are
functions. They are three-valued: an Unknown element that could decide the
answer makes the answer Unknown.
"""

from __future__ import annotations

from typing import Any

from jmespath import functions

from backupguard.estate import Unknown


def _first_unknown(items: list[Any]) -> Unknown | None:
    return next((item for item in items if isinstance(item, Unknown)), None)


def _member(item: Any, allowed: list[Any]) -> Any:
    """Three-valued ``item in allowed``: unknown items or unknown members of ``allowed`` leave it open."""
    if isinstance(item, Unknown):
        return item
    if item in allowed:
        return True
    return _first_unknown(allowed) or False


class RuleFunctions(functions.Functions):
    @functions.signature({"types": ["array"]}, {"types": ["array"]})
    def _func_intersects(self, items: list[Any], allowed: list[Any]) -> Any:
        """True when some item is in ``allowed``; Unknown when none certainly is but one might be."""
        verdicts = [_member(item, allowed) for item in items]
        if any(v is True for v in verdicts):
            return True
        return _first_unknown(verdicts) or False

    @functions.signature({"types": ["array"]}, {"types": ["array"]})
    def _func_all_in(self, items: list[Any], allowed: list[Any]) -> Any:
        """True when every item is in ``allowed``; Unknown when none is certainly missing but one might be."""
        verdicts = [_member(item, allowed) for item in items]
        if any(v is False for v in verdicts):
            return False
        return _first_unknown(verdicts) or True
