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


class RuleFunctions(functions.Functions):
    @functions.signature({"types": ["array"]}, {"types": ["array"]})
    def _func_intersects(self, items: list[Any], allowed: list[Any]) -> Any:
        """True when some item is in ``allowed``; Unknown when none is but an item is unknown."""
        if any(item in allowed for item in items if not isinstance(item, Unknown)):
            return True
        return _first_unknown(items) or False

    @functions.signature({"types": ["array"]}, {"types": ["array"]})
    def _func_all_in(self, items: list[Any], allowed: list[Any]) -> Any:
        """True when every item is in ``allowed``; Unknown when only unknown items could break it."""
        if any(item not in allowed for item in items if not isinstance(item, Unknown)):
            return False
        return _first_unknown(items) or True

    @functions.signature({"types": ["array"]}, {"types": ["array"]})
    def _func_missing(self, required: list[Any], present: list[Any]) -> Any:
        """The items of ``required`` that ``present`` lacks (for messages)."""
        return [item for item in required if item not in present]
