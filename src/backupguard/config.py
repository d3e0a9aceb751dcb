"""Run configuration: which checks run, with which parameters.

Parameters are layered, later layers winning: the rule's default, the
framework control's value, the user's config file, then ``--param
RULE.PARAM=VALUE`` on the command line. Every value is checked against the
parameter's declared type and bounds, and a misspelt rule or parameter is an
error, not a silent no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from backupguard.frameworks import Framework
from backupguard.rules import CatalogueError, Rule, patterns
from backupguard.rules.engine import Check, Scope
from backupguard.waivers import parse_waivers

MAX_CONFIG_BYTES = 256 * 1024
DEFAULT_CONFIG_NAMES = (".backupguard.yaml", ".backupguard.yml")
_CONFIG_KEYS = {"parameters", "frameworks", "exclude", "fail_on", "strict", "opt_in", "waivers", "check", "skip_check",
                "allow_empty"}
# Folders of the user's own rule and framework files (--rules-dir, --frameworks-dir), relative to the config file.
_CONFIG_KEYS |= {"rules_dir", "frameworks_dir"}


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
    check: list[str] = field(default_factory=list)  # rule IDs, names or globs to run (default: all)
    skip_check: list[str] = field(default_factory=list)  # ... and to leave out
    allow_empty: bool = False  # a scan that finds nothing to check exits 0 (as --allow-empty)
    source: str | None = None
    rules_dirs: list[Path] = field(default_factory=list)  # config rules_dir, resolved from the config's folder
    frameworks_dirs: list[Path] = field(default_factory=list)  # config frameworks_dir, likewise


def load_config(path: Path | None) -> UserConfig:
    """The config file given, else ``.backupguard.yaml`` in the working directory or the nearest
    folder above it up to the repository root (config_file.find_config), else defaults."""
    if path is None:
        from backupguard.config_file import find_config

        path = find_config()
        if path is None:
            return UserConfig()
    data, lines = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config file must be a mapping")
    unknown = sorted(str(key) for key in set(data) - _CONFIG_KEYS)  # YAML keys may be numbers
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(_CONFIG_KEYS))}")
    params = data.get("parameters") or {}
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise ConfigError(f"{path}: 'parameters' must map rule IDs to {{parameter: value}}")
    opt_in = data.get("opt_in") or {}
    if not isinstance(opt_in, dict) or not all(isinstance(v, bool) for v in opt_in.values()):
        raise ConfigError(f"{path}: 'opt_in' must map AWS Backup resource types (S3, Aurora...) to true or false")
    for key in ("frameworks", "exclude", "check", "skip_check"):
        if not _strings(data.get(key)):
            raise ConfigError(f"{path}{_at(lines, key)}: '{key}' must be a list of strings")
    if data.get("fail_on") is not None and not isinstance(data["fail_on"], str):
        raise ConfigError(f"{path}{_at(lines, 'fail_on')}: 'fail_on' must be a severity or 'never'")
    if not isinstance(data.get("strict", False), bool):
        raise ConfigError(f"{path}: 'strict' must be true or false")
    try:
        waivers = parse_waivers(data.get("waivers"), str(path),
                                {i: lines[f"waivers[{i}]"] for i in range(len(data.get("waivers") or [])) if f"waivers[{i}]" in lines})
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    folders = {key: _folders(path, lines, key, data.get(key)) for key in ("rules_dir", "frameworks_dir")}
    return UserConfig(
        waivers=waivers,
        opt_in={str(k): v for k, v in opt_in.items()},
        parameters={str(k): dict(v) for k, v in params.items()},
        frameworks=[str(f) for f in data.get("frameworks") or []],
        exclude=[str(e) for e in data.get("exclude") or []],
        check=list(data.get("check") or []),
        skip_check=list(data.get("skip_check") or []),
        fail_on=data.get("fail_on"),
        strict=data.get("strict", False),
        allow_empty=bool(data.get("allow_empty")),
        source=str(path),
        rules_dirs=folders["rules_dir"],
        frameworks_dirs=folders["frameworks_dir"],
    )


def _folders(config: Path, lines: dict[str, int], key: str, value: Any) -> list[Path]:
    """``rules_dir``/``frameworks_dir``: a folder or a list of folders, relative to the config file's folder.

    The config may come from the pull request under review, so a folder must lie inside the config
    file's folder (after symlinks): a config cannot make backupguard read YAML from elsewhere on the runner.
    """
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not _strings(items) or not items:
        raise ConfigError(f"{config}{_at(lines, key)}: '{key}' must be a folder or a list of folders")
    base = config.parent
    real_base = os.path.realpath(base)
    folders = []
    for item in items:
        folder = base / item
        real = os.path.realpath(folder)
        if os.path.commonpath([real, real_base]) != real_base:
            raise ConfigError(f"{config}{_at(lines, key)}: '{key}' {item!r} is outside the config file's folder "
                              f"(name it with --{key.replace('_', '-')} instead)")
        folders.append(folder)
    return folders


def _read_yaml(path: Path) -> tuple[Any, dict[str, int]]:
    """The config's YAML, bounded: at most ``MAX_CONFIG_BYTES``, UTF-8, and no anchors or aliases.

    The config may come from the pull request under review: plain ``safe_load`` expands aliases
    ("billion laughs": a few hundred bytes become gigabytes), so aliases are refused before
    anything is built. A mapping is then checked against the shipped JSON Schema
    (``config.schema.json``). Each mistake is a :class:`ConfigError` naming the file and line.
    Returns the data and the line of each top-level key's value.
    """
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: the config file is larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}:{line}: the config file is not UTF-8 text") from None
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ConfigError(f"{path}:{event.start_mark.line + 1}: YAML anchors and aliases are not allowed in the config")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise ConfigError(f"{path}: the config file is nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise ConfigError(f"{path}: a value cannot be read: {exc}") from None
    lines = {}
    if isinstance(node, yaml.MappingNode):
        lines = {str(key.value): value.start_mark.line + 1 for key, value in node.value}
        for key, value in node.value:  # each entry of a top-level list (a waiver's results point at it)
            if isinstance(value, yaml.SequenceNode):
                lines.update({f"{key.value}[{i}]": item.start_mark.line + 1 for i, item in enumerate(value.value)})
    if isinstance(data, dict):
        from backupguard.config_file import schema_problem

        try:
            problem = schema_problem(data, node, str(path))
        except RecursionError:
            raise ConfigError(f"{path}: the config file is nested too deeply") from None
        if problem:
            raise ConfigError(problem)
    return ({} if data is None else data), lines


def _at(lines: dict[str, int], key: str) -> str:
    return f":{lines[key]}" if key in lines else ""


def _strings(value: Any) -> bool:
    return value is None or isinstance(value, list) and all(isinstance(v, str) for v in value)


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
    check: list[str] | None = None,
    skip: list[str] | None = None,
) -> list[Check]:
    """The checks of a run: every rule with defaults, or the selected frameworks' controls; narrowed
    to the rules ``check`` names (else the config's ``check``) minus those ``skip`` names (else the
    config's ``skip_check``), before anything runs. Waivers must name rules that exist."""
    for layer, where in ((config.parameters, config.source or "config"), (cli_params, "--param")):
        for rule_id in layer:
            if rule_id not in rules:
                raise ConfigError(f"{where}: no rule {rule_id}")
    for waiver in config.waivers:
        if not patterns.matching(waiver.rule, rules):
            where = f"{waiver.source}{f':{waiver.line}' if waiver.line else ''}"
            raise ConfigError(f"{where}: waiver for {waiver.rule!r}: {patterns.unknown(waiver.rule, rules)}")
    source = config.source or "config"
    try:
        keep = patterns.selected(rules, patterns.split(check or config.check), patterns.split(skip or config.skip_check),
                                 ("--check" if check else f"{source}: check", "--skip-check" if skip else f"{source}: skip_check"))
    except patterns.PatternError as exc:
        raise ConfigError(str(exc)) from None
    checks = _checks(rules, frameworks, selected, config, cli_params, keep)
    if keep is not None and not checks:
        raise ConfigError("the rule selection (--check/--skip-check, check/skip_check) leaves no rule to run"
                          + (f" in {', '.join(selected)}" if selected else ""))
    return checks


def _checks(
    rules: dict[str, Rule],
    frameworks: dict[str, Framework],
    selected: list[str],
    config: UserConfig,
    cli_params: dict[str, dict[str, str]],
    keep: set[str] | None,
) -> list[Check]:
    """The checks of the rules kept (every rule when ``keep`` is None)."""

    def effective(rule: Rule, base: dict[str, Any]) -> dict[str, Any]:
        params = _apply(rule, base, config.parameters.get(rule.id, {}), config.source or "config")
        return _apply(rule, params, cli_params.get(rule.id, {}), "--param")

    if not selected:
        return [Check(rule, effective(rule, rule.defaults())) for rule in rules.values() if keep is None or rule.id in keep]
    checks = []
    for framework_id in selected:
        framework = frameworks.get(framework_id)
        if framework is None:
            raise ConfigError(f"no framework '{framework_id}' (available: {', '.join(sorted(frameworks))})")
        for control in framework.controls:
            for mapped in control.rules:
                if keep is not None and mapped.rule_id not in keep:
                    continue
                rule = rules[mapped.rule_id]
                params = effective(rule, {**rule.defaults(), **mapped.parameters})
                scope = Scope(control.resource_types, control.tags)
                checks.append(Check(rule, params, scope, (f"{framework.id}:{control.id}",)))
    return checks
