"""Typer without pydantic for the option values backupguard has.

Typer 0.2x converts every option value through a pydantic ``TypeAdapter``, which imports pydantic
(with pydantic-core, annotated-types and importlib.metadata: about a third of ``lint``'s start-up)
and builds one adapter per option, on every run. backupguard's options are text, paths, choices
(enums), flags and lists of these, and for them the adapter does no more than ``str(value)``,
``Path(value)``, Typer's own path checks and Typer's own choice matching. :func:`install` gives
such options a converter that does exactly that, without pydantic, and hands anything else to the
converter Typer built before:

* a value that is not plain text (a ``bytes`` argument, a default of another type), an option with
  a ``parser``, a ``path_type``, a file type or a number range (``scan``'s ``--max-workers``);
* a value that Typer rejects (a misspelt choice, a path check that fails): Typer's own converter
  then raises, so every error message is Typer's, word for word.

Older Typer versions (click-based, no pydantic) and any version whose internals differ are left
as they are (:func:`install` returns False): nothing here is needed for correctness, only for speed.
``tests/test_startup.py`` checks that ``lint`` does not import pydantic, and compares these
converters with Typer's own on valid and invalid values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


class _Unhandled(Exception):
    """A value the light converter leaves to Typer's own (pydantic) converter."""


def install() -> bool:
    """Give Typer's parameters the light converter where it applies; False when this Typer has no
    pydantic converter to replace (or internals this module does not know)."""
    try:
        from typer import _coercion, _param_types, core
    except ImportError:
        return False
    parameter = getattr(core, "_TyperParameter", None)
    base = getattr(_coercion, "RuntimeParam", None)
    original = getattr(parameter, "get_runtime_param", None)
    needed = (getattr(_coercion, "build_runtime_param", None), getattr(_param_types, "coerce_cli_choice", None),
              getattr(_param_types, "coerce_cli_path", None))
    if parameter is None or base is None or original is None or None in needed:
        return False
    if getattr(original, "_backupguard_light", False):
        return True
    light_class = _light_class(base)

    def get_runtime_param(self: Any) -> Any:
        if getattr(self, "_runtime_param", None) is None:
            descriptor = getattr(self, "type_descriptor", None)
            if descriptor is not None and _plain(descriptor):
                self._runtime_param = light_class(descriptor.parameter_info, descriptor.annotation, descriptor)
        return original(self)

    get_runtime_param._backupguard_light = True  # type: ignore[attr-defined]
    parameter.get_runtime_param = get_runtime_param
    return True


def _leaf_kind(annotation: Any) -> str | None:
    if annotation is str:
        return "str"
    if annotation is Path:
        return "path"
    if annotation is bool:
        return "bool"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "choice"
    return None


def _plain(descriptor: Any) -> bool:
    """An option of a kind the light converter knows, with none of the settings it leaves to Typer."""
    from typing import get_args, get_origin

    info = descriptor.parameter_info
    if getattr(descriptor, "file_annotation", None) is not None or getattr(info, "parser", None) is not None:
        return False
    if getattr(info, "path_type", None) is not None or getattr(info, "min", None) is not None \
            or getattr(info, "max", None) is not None:
        return False
    annotation = descriptor.annotation
    if get_origin(annotation) is list:
        args = get_args(annotation)
        return len(args) == 1 and _leaf_kind(args[0]) in ("str", "path", "choice")
    return get_origin(annotation) is None and _leaf_kind(annotation) is not None


def _light_class(base: type) -> type:
    from typer import _coercion, _param_types

    @dataclass(frozen=True)
    class LightRuntimeParam(base):  # type: ignore[valid-type, misc]
        """Typer's conversion of text, paths, choices and flags, without pydantic (see the module)."""

        descriptor: Any = None
        _typer: list = field(default_factory=list, compare=False, repr=False)  # Typer's own, built when needed

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                return self._light(value, param, ctx)
            except _Unhandled:
                if not self._typer:
                    self._typer.append(_coercion.build_runtime_param(self.descriptor))
                return self._typer[0]._coerce_value(value, param=param, ctx=ctx)

        def _light(self, value: Any, param: Any, ctx: Any) -> Any:
            from typing import get_args, get_origin

            annotation = self.annotation
            if get_origin(annotation) is list:
                items = value if isinstance(value, (list, tuple)) else [value]
                return [self._leaf(get_args(annotation)[0], item, param, ctx) for item in items]
            return self._leaf(annotation, value, param, ctx)

        def _leaf(self, annotation: Any, value: Any, param: Any, ctx: Any) -> Any:
            kind = _leaf_kind(annotation)
            if kind == "bool":
                if type(value) is bool:
                    return value
                raise _Unhandled
            if kind == "choice" and isinstance(value, annotation):
                return value
            if type(value) is not str:
                raise _Unhandled
            if kind == "str":
                return value
            if kind == "choice":
                try:
                    return _param_types.coerce_cli_choice(value, choices=tuple(annotation),
                                                          case_sensitive=self.parameter_info.case_sensitive, ctx=ctx)
                except ValueError:
                    raise _Unhandled from None
            try:  # path: pydantic's Path(value), then Typer's own checks
                return _param_types.coerce_cli_path(Path(value), self.parameter_info, path_type=Path, param=param, ctx=ctx)
            except Exception:  # noqa: BLE001 - Typer's converter raises the error, in its own words
                raise _Unhandled from None

    return LightRuntimeParam
