"""The root module's input variables, as Terraform sets them before a plan.

Lowest to highest: a variable's default (applied by :mod:`module`), ``TF_VAR_name`` environment
variables, ``terraform.tfvars``, ``terraform.tfvars.json``, ``*.auto.tfvars`` and
``*.auto.tfvars.json`` in lexical order, ``-var-file`` files in order, then ``-var`` values.
A variables file is evaluated as Terraform does, without functions or references; a ``-var`` value
is text unless it parses as a literal and the variable's type is not a primitive one. Variables
files found in the folder are read only inside the scan root; those named on the command line come
from whoever runs the scan.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from backupguard.estate import Reference, Unknown
from backupguard.scanner.terraform import hcl
from backupguard.scanner.terraform.budget import BudgetExceeded, WorkExhausted, read_capped, too_large
from backupguard.scanner.terraform.configuration import Config, Loader
from backupguard.scanner.terraform.evaluate import EvalError, Scope, evaluate_value, parse_type

__all__ = ["root_values"]


def _first_call(node: Any) -> hcl.Call | None:
    """The first function call in an expression tree (a variables file may hold none)."""
    if isinstance(node, hcl.Call):
        return node
    if isinstance(node, (list, tuple)):
        children = node
    elif hasattr(node, "__dataclass_fields__"):
        children = [getattr(node, name) for name in node.__dataclass_fields__]
    else:
        return None
    return next((call for child in children if (call := _first_call(child)) is not None), None)


def _tfvars_hcl(loader: Loader, path: Path, values: dict) -> None:
    """A ``.tfvars`` file. Terraform evaluates it without functions or variables, so a call is an
    error before anything is evaluated; the first error ends the file (one broken file, one error)."""
    shown = loader.show(path)
    parsed = loader.parse_file(path, shown)
    if parsed is None:
        return
    errors = len(loader.errors)
    for item in parsed.body.items:
        if len(loader.errors) > errors:
            return
        if isinstance(item, hcl.Block):
            loader.error(f"blocks are not allowed in a variables file ('{item.type}')", shown, item.line, item.column)
            continue
        call = _first_call(item.expr)
        if call is not None:
            loader.error(f"variable '{item.name}': function calls are not allowed in a variables file ('{call.name}')",
                         shown, call.line, call.column)
            continue
        try:
            values[item.name] = evaluate_value(item.expr, Scope(file=shown))
        except EvalError as exc:
            loader.error(f"variable '{item.name}': {exc.message}", shown, exc.line or item.expr.line, exc.column or item.expr.column)
        except WorkExhausted:
            raise
        except BudgetExceeded as exc:
            loader.over_budget(exc, f"variable '{item.name}'", shown, item.expr)
        except RecursionError:
            loader.error(f"variable '{item.name}': value is nested too deeply", shown, item.line, item.column)


def _tfvars_json(loader: Loader, path: Path, values: dict) -> None:
    shown = loader.show(path)
    try:
        raw = read_capped(path)
        if raw is None:
            loader.error(f"file is {too_large()}; not read", shown)
            return
        data = json.loads(raw.decode("utf-8"))
    except OSError as exc:
        loader.error(f"cannot read file: {exc.strerror or exc}", shown)
        return
    except UnicodeDecodeError:
        loader.error("the file is not UTF-8 text", shown)
        return
    except json.JSONDecodeError as exc:
        loader.error(f"invalid JSON: {exc.msg}", shown, exc.lineno, exc.colno)
        return
    except RecursionError:
        loader.error("JSON is nested too deeply", shown)
        return
    except ValueError as exc:  # a number of more than 4,300 digits
        loader.error(f"invalid JSON: {exc}", shown)
        return
    if not isinstance(data, dict):
        loader.error("a variables file must hold a JSON object", shown)
        return
    values.update(_json_numbers(data))


def _json_numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _var_file(loader: Loader, path: Path, values: dict) -> None:
    if path.name.endswith(".json"):
        _tfvars_json(loader, path, values)
    else:
        _tfvars_hcl(loader, path, values)


def _cli_value(config: Config, name: str, text: str) -> Any:
    entry = config.variables.get(name)
    if entry is not None:
        type_attr = entry[0].body.attributes.get("type")
        spec = parse_type(type_attr.expr if type_attr else None)
        if spec[0] in ("string", "number", "bool"):
            return text
    expr = hcl.parse_expression(text)
    if expr is None or _first_call(expr) is not None:  # Terraform evaluates -var values without functions
        return text
    try:
        value = evaluate_value(expr, Scope())
    except (EvalError, RecursionError):
        return text
    except WorkExhausted:
        raise
    except BudgetExceeded:
        return Unknown(f"the value given for variable '{name}' is too costly to evaluate")
    if isinstance(value, (Unknown, Reference)):
        return text
    return value


def root_values(loader: Loader, config: Config, directory: Path, variables: dict | None, var_files: list | None) -> dict:
    values: dict[str, Any] = {}
    from_environment = sorted(name for name in config.variables if "TF_VAR_" + name in os.environ)
    for name in from_environment:
        values[name] = _cli_value(config, name, os.environ["TF_VAR_" + name])
    if from_environment:
        loader.note(f"{loader.root_shown}: variables from the environment: "
                    + ", ".join(f"TF_VAR_{name}" for name in from_environment))
    try:
        names = sorted(entry.name for entry in directory.iterdir() if entry.is_file())
    except OSError:
        names = []
    automatic = [name for name in ("terraform.tfvars", "terraform.tfvars.json") if name in names]
    automatic += [name for name in names if name.endswith((".auto.tfvars", ".auto.tfvars.json"))]
    for name in automatic:  # a symlink out of the tree must not put a file's content into the report
        if not loader.outside(directory / name, f"variables file '{name}'", loader.show(directory / name)):
            _var_file(loader, directory / name, values)
    for path in var_files or []:  # named on the command line by whoever runs the scan: trusted
        path = Path(path)
        if not path.is_file():
            loader.error("variables file not found", loader.show(path))
            continue
        _var_file(loader, path, values)
    for name, text in (variables or {}).items():
        values[name] = _cli_value(config, name, text)
    for name in values:
        if name not in config.variables:
            loader.note(f"a value was given for undeclared variable '{name}'")
    return values
