"""Run configuration: which checks run, with which parameters.

Parameters are layered, later layers winning: the rule's default, the
framework control's value, the user's config file, then ``--param
RULE.PARAM=VALUE`` on the command line. Every value is checked against the
parameter's declared type and bounds, and a misspelt rule or parameter is an
error, not a silent no-op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from backupguard.frameworks import Framework
from backupguard.rules import CatalogueError, Rule
from backupguard.rules.engine import Check, Scope
from backupguard.waivers import parse_waivers

DEFAULT_CONFIG_NAMES = (".backupguard.yaml", ".backupguard.yml")
_CONFIG_KEYS = {"parameters", "frameworks", "exclude", "fail_on", "strict", "opt_in", "waivers"}


class ConfigError(Exception):
    """A configuration mistake the user must fix (exit code 2)."""


@dataclass
class UserConfig:
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    frameworks: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    fail_on: str | None = None
    strict: bool = False  # unknown results count as failures (exit code, JUnit)
    opt_in: dict[str, bool] = field(default_factory=dict)  # AWS Backup service opt-in, where templates don't say
    waivers: list = field(default_factory=list)  # backupguard.waivers.Waiver
    source: str | None = None


def load_config(path: Path | None) -> UserConfig:
    """The config file given, else ``.backupguard.yaml`` in the working directory, else defaults."""
    if path is None:
        path = next((Path(name) for name in DEFAULT_CONFIG_NAMES if Path(name).is_file()), None)
        if path is None:
            return UserConfig()
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config file must be a mapping")
    unknown = sorted(set(data) - _CONFIG_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(_CONFIG_KEYS))}")
    params = data.get("parameters") or {}
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise ConfigError(f"{path}: 'parameters' must map rule IDs to {{parameter: value}}")
    opt_in = data.get("opt_in") or {}
    if not isinstance(opt_in, dict) or not all(isinstance(v, bool) for v in opt_in.values()):
        raise ConfigError(f"{path}: 'opt_in' must map AWS Backup resource types (S3, Aurora...) to true or false")
    if not isinstance(data.get("strict", False), bool):
        raise ConfigError(f"{path}: 'strict' must be true or false")
    try:
        waivers = parse_waivers(data.get("waivers"), str(path))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return UserConfig(
        waivers=waivers,
        opt_in={str(k): v for k, v in opt_in.items()},
        parameters={str(k): dict(v) for k, v in params.items()},
        frameworks=[str(f) for f in data.get("frameworks") or []],
        exclude=[str(e) for e in data.get("exclude") or []],
        fail_on=data.get("fail_on"),
        strict=data.get("strict", False),
        source=str(path),
    )


def parse_param_options(options: list[str]) -> dict[str, dict[str, str]]:
    """``["BG101.required_retention_days=90"]`` -> ``{"BG101": {"required_retention_days": "90"}}``."""
    parsed: dict[str, dict[str, str]] = {}
    for option in options:
        target, sep, value = option.partition("=")
        rule_id, dot, name = target.partition(".")
        if not sep or not dot or not rule_id or not name:
            raise ConfigError(f"--param {option!r}: expected RULE.PARAMETER=VALUE")
        parsed.setdefault(rule_id.strip(), {})[name.strip()] = value.strip()
    return parsed


def _apply(rule: Rule, base: dict[str, Any], overrides: dict[str, Any], where: str) -> dict[str, Any]:
    params = dict(base)
    for name, raw in overrides.items():
        if name not in rule.parameters:
            known = ", ".join(sorted(rule.parameters)) or "none"
            raise ConfigError(f"{where}: rule {rule.id} has no parameter '{name}' (parameters: {known})")
        try:
            params[name] = rule.parameters[name].coerce(raw, where)
        except CatalogueError as exc:
            raise ConfigError(str(exc)) from None
    return params


def build_checks(
    rules: dict[str, Rule],
    frameworks: dict[str, Framework],
    selected: list[str],
    config: UserConfig,
    cli_params: dict[str, dict[str, str]],
) -> list[Check]:
    """The checks of a run: every rule with defaults, or the selected frameworks' controls."""
    for layer, where in ((config.parameters, config.source or "config"), (cli_params, "--param")):
        for rule_id in layer:
            if rule_id not in rules:
                raise ConfigError(f"{where}: no rule {rule_id}")

    def effective(rule: Rule, base: dict[str, Any]) -> dict[str, Any]:
        params = _apply(rule, base, config.parameters.get(rule.id, {}), config.source or "config")
        return _apply(rule, params, cli_params.get(rule.id, {}), "--param")

    if not selected:
        return [Check(rule, effective(rule, rule.defaults())) for rule in rules.values()]
    checks = []
    for framework_id in selected:
        framework = frameworks.get(framework_id)
        if framework is None:
            raise ConfigError(f"no framework '{framework_id}' (available: {', '.join(sorted(frameworks))})")
        for control in framework.controls:
            for mapped in control.rules:
                rule = rules[mapped.rule_id]
                params = effective(rule, {**rule.defaults(), **mapped.parameters})
                scope = Scope(control.resource_types, control.tags)
                checks.append(Check(rule, params, scope, (f"{framework.id}:{control.id}",)))
    return checks
