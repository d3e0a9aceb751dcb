"""Load a Terraform root module directory into resource instances with evaluated arguments.

:func:`load_module` reads every ``*.tf`` file of a directory (sorted by name),
works out variable values the way Terraform does (default < ``TF_VAR_name``
environment variables < ``terraform.tfvars``
< ``terraform.tfvars.json`` < ``*.auto.tfvars``/``*.auto.tfvars.json`` in lexical
order < ``var_files`` in order < ``variables``), follows local modules
(``./`` and ``../`` sources) and expands ``count``, ``for_each`` and ``dynamic``
blocks into :class:`Instance` objects with real addresses
(``module.backup.aws_backup_plan.this[0]``). Reading a folder's files into declarations is
:mod:`configuration`'s job, and the root module's variable values :mod:`variables`'; this module
evaluates the declarations.

Values (see :mod:`backupguard.scanner.terraform.evaluate`): literals become
Python data, what the inputs leave open is an :class:`~backupguard.estate.Unknown`
whose reason names the deciding input, and an attribute of another resource is
the configured value when the configuration sets it to a known value, else an
:class:`~backupguard.estate.Reference` to the full address (with the module
prefix and instance key: ``Reference('module.b.aws_backup_vault.this[0]', 'arn',
'aws_backup_vault')``). ``id`` and ``arn`` are always References. A data source
attribute is the configured argument, else ``Unknown("data source ... is read at
apply time")`` with the data source's address in ``refs`` (except ``aws_region`` /
``aws_partition`` without arguments, which describe their provider's known
region). Data source instances are listed in ``LoadResult.data_sources``.
A string built from unknown parts is an Unknown whose ``text`` keeps the
known parts with ``${...}`` placeholders (``arn:aws:backup:${var.region}:...``,
``${aws_backup_vault.main.arn}`` for a reference), ``refs`` naming the addresses.

``Instance.values`` is a LineDict: an argument maps to its value, a nested block
type to a LineList of LineDicts (static and ``dynamic`` blocks together, in
source order); keys and items carry their (line, column) in ``origin.file``.
Values that come from elsewhere (a variable default in variables.tf, a merge())
are placed at the argument that uses them. ``null`` arguments are kept as
``None`` (Terraform treats them as unset).

Design choices a consumer must know:

* **count / for_each not known.** A ``count`` whose candidates are known
  (``var.on ? 1 : 0`` with ``on`` undetermined) expands to the largest count;
  instances that may not exist get ``exists = Unknown(...)``. A count or
  for_each with no candidates gives ONE instance whose address has no key
  (``aws_backup_plan.this``), ``key = None``, ``exists = Unknown(reason)``, and
  ``count.index`` / ``each.key`` / ``each.value`` are Unknown inside it; a note
  says so. ``count = 0`` or an empty for_each gives no instance; a count Terraform
  refuses (``-1``, ``1.5``, null, a string) is a located InputError, and more than
  ``budget.MAX_INSTANCES`` instances is one too (see :mod:`budget` for every limit).
* **dynamic blocks not known.** When the ``for_each`` of a ``dynamic "rule"``
  block is undetermined, ``values["rule"]`` is an :class:`UnknownBlocks`: an
  ``Unknown`` (so a consumer that only checks ``isinstance(v, Unknown)`` sees
  "zero or more blocks we cannot list", with ``may_be_absent=True`` and the
  reason ``dynamic block 'rule' for_each is unknown: variable 'rules' has no
  value``) that also carries ``known`` (a LineList of the static blocks and the
  expansions of known dynamic blocks of that type) and ``templates`` (a LineList
  with the ``content`` of each undetermined dynamic block evaluated with an
  Unknown iterator, so values that do not depend on the iterator are still
  there). Known dynamic blocks simply become LineDicts in the LineList.
* **providers.** Each instance gets the provider configuration it uses
  (``provider = aws.replica`` or the default one for its type prefix), with
  module inheritance of default configurations and ``providers = {...}`` maps.
  ``Instance.provider`` is that configuration's address in the module that
  declares it (``aws.replica``; ``module.x.aws`` for a provider block inside a
  module). ``default_tags`` are exposed, not merged into ``tags``; their
  positions are in the provider's own file. OpenTofu's provider ``for_each``
  gives one configuration per key (``aws.by_region["us-east-1"]``), chosen by
  ``provider = aws.by_region[each.key]`` or ``providers = {aws = aws.by_region[each.key]}``
  per instance; an unknown key leaves the region unknown (``aws.by_region[?]``).
* **files.** ``file()`` and ``templatefile()`` read through one
  :class:`~backupguard.scanner.terraform.files.FileAccess` per load: relative to
  the root module folder (Terraform's working directory), where ``path.module``
  is the module's folder relative to it and ``path.root``/``path.cwd`` are ``.``;
  nothing outside the scan root (without one, outside the root module folder).

Besides address, type, name, values, origin, region, default_tags and
provider, an :class:`Instance` has ``key`` (its count
index or for_each key), ``exists`` (True, or an Unknown when its own or an
enclosing module's count/for_each is undetermined), ``module`` (the module
address, '' for the root) and ``mode`` ('managed' or 'data').

An expression Terraform would reject (a missing attribute, an index out of
range, an undeclared reference) becomes an Unknown naming the problem, with a
``file:line:column`` note. Registry, git and other remote module sources are
not followed (one note per call). A syntax error makes that file's content absent (one located
InputError); the other files still load. Local-module cycles and nesting deeper
than 16 levels are InputErrors. ``.tf.json`` files are read
through :mod:`hcl_json`; override files (``override.tf``, ``*_override.tf``)
are merged after the others as Terraform does (provider overrides excepted, noted).
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from backupguard.estate import InputError, Origin, Reference, Unknown
from backupguard.scanner.cloudformation.loader import LineDict, LineList
from backupguard.scanner.terraform import hcl
from backupguard.scanner.terraform.budget import (
    BudgetExceeded, WorkExhausted, check_instances, check_items, metered, spend,
)
from backupguard.scanner.terraform.configuration import Config, Decl, Loader
from backupguard.scanner.terraform.evaluate import (
    _GUARDED, PARTIAL_ERRORS, EvalError, HclList, HclObject, Lazy, Unresolvable, Scope, as_unknown, convert, evaluate,
    find_unknown, materialize, parse_type, to_string,
)
from backupguard.scanner.terraform.files import FileAccess, FileError
from backupguard.scanner.terraform.policy_document import policy_document_json
from backupguard.scanner.terraform.variables import root_values

__all__ = ["Instance", "LoadResult", "UnknownBlocks", "load_module"]

_MAX_DEPTH = 16
_RESOURCE_META_ATTRS = frozenset({"count", "for_each", "provider", "depends_on"})
_RESOURCE_META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
_MODULE_META = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
_ALWAYS_COMPUTED = frozenset({"id", "arn"})
_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"),
               ("eu-isoe-", "aws-iso-e"), ("us-isof-", "aws-iso-f"))


@dataclass(frozen=True, slots=True, eq=False)
class UnknownBlocks(Unknown):
    """Nested blocks of one type when a ``dynamic`` block's for_each is undetermined (see module docs)."""

    known: Any = None  # LineList of the blocks that are known (static ones, known dynamic expansions)
    templates: Any = None  # LineList: each undetermined dynamic block's content, iterator Unknown


@dataclass
class Instance:
    address: str
    type: str
    name: str
    values: LineDict
    origin: Origin
    region: Any
    default_tags: Any
    provider: str
    key: Any = None  # count index (int), for_each key (str) or None
    exists: Any = True  # Unknown when count/for_each (of it or of an enclosing module) is undetermined
    module: str = ""  # 'module.backup' ('' for the root module)
    mode: str = "managed"  # or 'data'


@dataclass
class LoadResult:
    instances: list[Instance]
    errors: list[InputError]
    notes: list[str]
    data_sources: list[Instance] = field(default_factory=list)


# ---------------------------------------------------------------------------
# providers
# ---------------------------------------------------------------------------


@dataclass
class _Provider:
    address: str
    region: Any = None
    default_tags: Any = field(default_factory=dict)
    other_account: bool = False  # assumes a role or uses a profile/keys: --account-id may not be its account
    account: str | None = None  # pinned by allowed_account_ids = ["<one account>"]: Terraform runs nowhere else
    # OpenTofu's provider for_each: the configuration's instances by key, or the Unknown for_each when
    # its keys are not known; None for a configuration that is not iterated.
    instances: "dict[str, _Provider] | Unknown | None" = None


def _provider_reference(expr: hcl.Expr) -> tuple[str, hcl.Expr | None] | None:
    """``aws.replica`` -> ("aws.replica", None); OpenTofu's ``aws.by_region[each.key]`` ->
    ("aws.by_region", the key expression); anything else (not a provider configuration) None.
    In JSON syntax the reference is a string, parsed here (its parts placed at the string)."""
    if isinstance(expr, hcl.Literal) and isinstance(expr.value, str) and "[" in expr.value:
        parsed = hcl.parse_expression(expr.value)
        return None if parsed is None else _provider_reference(hcl.relocate(parsed, expr.line, expr.column))
    name = hcl.traversal_name(expr)
    if name is not None:
        return name, None
    if isinstance(expr, hcl.Traversal) and expr.steps and isinstance(expr.steps[-1], hcl.Index):
        name = hcl.traversal_name(hcl.Traversal(expr.line, expr.column, expr.source, expr.steps[:-1]))
        if name is not None and "." in name:
            return name, expr.steps[-1].key
    return None


def _refused(provider: _Provider, reason: str) -> _Provider:
    """The instance a reference OpenTofu refuses would name: its region and tags are unknown."""
    unknown = Unknown(f"provider {provider.address}: {reason}")
    return _Provider(f"{provider.address}[?]", unknown, unknown, True)


def _some_instance(provider: _Provider, cause: Unknown) -> _Provider:
    """An instance of an iterated configuration, which one depending on ``cause``: what all its
    instances share (one region, the same tags or account) is known, the rest is unknown."""
    options = list(provider.instances.values()) if isinstance(provider.instances, dict) else []
    reason = f"the instance of provider {provider.address} is unknown: {cause.reason}"
    regions = [option.region for option in options]
    if options and all(isinstance(r, str) for r in regions) and len(set(regions)) == 1:
        region: Any = regions[0]
    else:
        known = all(isinstance(r, str) for r in regions)
        region = Unknown(reason, cause.refs, tuple(sorted(set(regions))) if known else ())
    tags = [option.default_tags for option in options]
    accounts = {option.account for option in options}
    return _Provider(
        f"{provider.address}[?]", region,
        tags[0] if tags and all(t == tags[0] and not isinstance(t, Unknown) for t in tags) else Unknown(reason, cause.refs),
        any(option.other_account for option in options) or not options,
        accounts.pop() if len(accounts) == 1 else None,
    )


# Provider arguments that can make its account differ from the one the scan was told (--account-id).
_ACCOUNT_SWITCHES = ("assume_role", "assume_role_with_web_identity", "profile", "access_key", "shared_config_files",
                     "shared_credentials_files")


def _key_suffix(key: Any) -> str:
    if key is None:
        return ""
    if isinstance(key, int):
        return f"[{key}]"
    return "[" + json.dumps(key, ensure_ascii=False) + "]"


def _scalar_region(value: Any) -> Any:
    if value is None or isinstance(value, (str, Unknown)):
        return value
    if isinstance(value, Reference):
        return as_unknown(value)
    return Unknown(f"the provider region is {type(value).__name__}, not a string")


# ---------------------------------------------------------------------------
# a module instance
# ---------------------------------------------------------------------------


_RESOURCE_TYPE = re.compile(r"^[a-z][a-z0-9]*_[a-z0-9_]+$")


class _Namespace(Lazy):
    __slots__ = ("getter", "label")

    def __init__(self, getter: Callable[[str, Any], Any], label: str):
        self.getter = getter
        self.label = label

    def get_attr(self, name: str, step: Any) -> Any:
        return self.getter(name, step)

    def value(self) -> Any:
        raise EvalError(f"'{self.label}' cannot be used as a value on its own")


class _Module:
    def __init__(
        self,
        loader: Loader,
        config: Config,
        address: str,
        parent: "_Module | None",
        call: "_CallNode | None",
        call_symbols: dict,
        given: dict | None,
        providers: dict,
        depth: int,
        ancestors: tuple,
        exists: Any = True,
        instance_key: Any = None,
    ):
        self.loader = loader
        self.config = config
        self.address = address
        self.prefix = address + "." if address else ""
        self.parent = parent
        self.call = call
        self.call_symbols = call_symbols
        self.given = given
        self.inherited = providers
        self.depth = depth
        self.ancestors = ancestors
        self.exists = exists
        self.instance_key = instance_key
        # (file, line, column) of the module call that brought in downloaded code (.terraform/modules):
        # its resources are reported there, in a file of the repository, not in the download.
        self.anchor: tuple[str, int, int] | None = None
        if call is not None:
            self.anchor = (parent.anchor if parent is not None else None) or (
                (call.file, call.block.line, call.block.column) if call.installed else None)
        self._vars: dict[str, Any] = {}
        self._locals: dict[str, Any] = {}
        self._outputs: dict[str, Any] = {}
        self._resources: dict[tuple, _ResourceNode] = {}
        self._calls: dict[str, _CallNode] = {}
        self._providers: dict[str, _Provider] = {}
        self._provider_blocks: dict[str, tuple] = {}
        for block, shown in config.providers:
            alias_attr = block.body.attributes.get("alias")
            alias = None
            if alias_attr is not None:
                alias = hcl.traversal_name(alias_attr.expr)
            key = block.labels[0] + (f".{alias}" if alias else "")
            if key in self._provider_blocks:
                loader.error(f"provider configuration {key} is declared more than once", shown, block.line, block.column)
                continue
            self._provider_blocks[key] = (block, shown)
        self._path = loader.path_values(config.directory)

    # -- scopes ------------------------------------------------------------------

    def scope(self, file: str, symbols: dict | None = None) -> Scope:
        return Scope(self.resolve, symbols, file, self.loader.files)

    def resolve(self, name: str, node: Any) -> Any:
        if name == "var":
            return _Namespace(self.var, "var")
        if name == "local":
            return _Namespace(self.local, "local")
        if name == "module":
            return _Namespace(self.module_call, "module")
        if name == "data":
            return _Namespace(lambda type_, step: _Namespace(lambda n, s: self.resource("data", type_, n, s), f"data.{type_}"), "data")
        if name == "path":
            return self._path
        if name == "terraform":
            return {"workspace": "default"}
        if name == "self":
            return Unknown("self is known only when the resource is created")
        if name in ("each", "count"):
            raise EvalError(f"'{name}' is available only where {'for_each' if name == 'each' else 'count'} is set", node.line, node.column)
        if name in self.config.resource_types:
            return _Namespace(lambda n, step: self.resource("managed", name, n, step), name)
        if _RESOURCE_TYPE.match(name):
            # A resource declared elsewhere (another stack, a snippet): its attributes are references all
            # the same, so `aws_kms_key.x.arn` still reads as "the ARN of a KMS key".
            return _Namespace(lambda n, step: Reference(f"{self.prefix}{name}.{n}", None, name), name)
        raise EvalError(f"reference to undeclared name '{name}'", node.line, node.column)

    def safe(self, expr: hcl.Expr, scope: Scope, what: str) -> Any:
        """Evaluate; a Terraform error becomes an Unknown (and a note with its position).

        An error here never reaches an enclosing try()/can() (it is an Unknown by then), so the
        expression is evaluated outside their guard; unresolvable elements are noted."""
        guarded, _GUARDED[0] = _GUARDED[0], 0
        try:
            return evaluate(expr, scope)
        except EvalError as exc:
            line = exc.line or expr.line
            column = exc.column or expr.column
            if isinstance(exc, FileError):  # a missing or unreadable file: Terraform stops there
                self.loader.error(f"{what}: {exc.message}", scope.file, line, column)
            else:
                self.loader.note(f"{scope.file}:{line}:{column}: {what}: {exc.message}")
            return Unknown(f"{what} could not be evaluated: {exc.message}")
        except RecursionError:
            self.loader.error(f"{what}: expression is nested too deeply", scope.file, expr.line, expr.column)
            return Unknown(f"{what}: expression is nested too deeply")
        except WorkExhausted:
            raise  # every later step would fail too: load_module reports it once
        except BudgetExceeded as exc:
            return self.loader.over_budget(exc, what, scope.file, expr)
        except MemoryError:
            return self.loader.over_budget(BudgetExceeded("evaluating it ran out of memory"), what, scope.file, expr)
        finally:
            _GUARDED[0] = guarded
            while PARTIAL_ERRORS:
                file, line, column, message = PARTIAL_ERRORS.pop(0)
                self.loader.note(f"{file}:{line}:{column}: {what}: {message} (this element is unknown)")

    def guarded(self, key: Any, label: str, compute: Callable[[], Any], on_cycle: Callable[[list[str]], Any]) -> Any:
        cycle = self.loader.enter(key, label)
        if cycle is not None:
            return on_cycle(cycle)
        try:
            return compute()
        finally:
            self.loader.leave(key)

    # -- variables, locals, outputs ----------------------------------------------

    def var(self, name: str, step: Any) -> Any:
        if name in self._vars:
            return self._vars[name]
        entry = self.config.variables.get(name)
        if entry is None:
            raise EvalError(f"reference to undeclared input variable '{name}'", step.line, step.column)
        label = f"{self.prefix}var.{name}"

        def cycle(labels: list[str]) -> Any:
            self.loader.note(f"cycle: {' -> '.join(labels)}")
            return Unknown(f"variable '{name}' depends on itself ({' -> '.join(labels)})")

        value = self.guarded(("var", id(self), name), label, lambda: self._var_value(name, entry), cycle)
        self._vars[name] = value
        return value

    def _var_value(self, name: str, entry: tuple) -> Any:
        block, shown = entry
        attrs = block.body.attributes
        spec = parse_type(attrs["type"].expr if "type" in attrs else None)
        nullable = True
        if "nullable" in attrs:
            flag = self.safe(attrs["nullable"].expr, Scope(file=shown), f"variable '{name}' nullable")
            nullable = flag is not False
        missing = object()
        value: Any = missing
        if self.given is not None:
            if name in self.given:
                value = self.given[name]
        elif self.call is not None:
            argument = self.call.block.body.attributes.get(name)
            if argument is not None and name not in _MODULE_META:
                parent = self.parent
                assert parent is not None
                value = parent.safe(argument.expr, parent.scope(self.call.file, self.call_symbols), f"module.{self.call.name} argument '{name}'")
        if value is None and not nullable:
            value = missing
        if value is missing:
            if "default" in attrs:
                value = materialize(self.safe(attrs["default"].expr, Scope(file=shown), f"variable '{name}' default"))
            elif self.address:
                value = Unknown(f"variable '{name}' of {self.address} has no value", may_be_absent=nullable)
            else:
                # a nullable variable (the default) may be set to null: the argument may be left unset
                value = Unknown(f"variable '{name}' has no value", may_be_absent=nullable)
        return convert(value, spec)

    def local(self, name: str, step: Any) -> Any:
        if name in self._locals:
            return self._locals[name]
        entry = self.config.locals.get(name)
        if entry is None:
            raise EvalError(f"reference to undeclared local value '{name}'", step.line, step.column)
        attribute, shown = entry
        label = f"local.{name}"

        def cycle(labels: list[str]) -> Any:
            self.loader.error(f"local value '{name}' refers to itself: {' -> '.join(labels)}", shown, attribute.line, attribute.column)
            return Unknown(f"local '{name}' is part of a cycle ({' -> '.join(labels)})")

        value = self.guarded(
            ("local", id(self), name), label,
            lambda: self.safe(attribute.expr, self.scope(shown), f"local.{name}"),
            cycle,
        )
        self._locals[name] = value
        return value

    def output(self, name: str, step: Any = None) -> Any:
        if name in self._outputs:
            return self._outputs[name]
        entry = self.config.outputs.get(name)
        if entry is None:
            if step is not None:
                raise Unresolvable(f"{self.address or 'the module'} has no output '{name}'", step.line, step.column)
            raise Unresolvable(f"{self.address or 'the module'} has no output '{name}'")
        block, shown = entry
        attribute = block.body.attributes.get("value")
        if attribute is None:
            value: Any = None
        else:
            def cycle(labels: list[str]) -> Any:
                self.loader.note(f"cycle: {' -> '.join(labels)}")
                return Unknown(f"output '{name}' of {self.address} depends on itself")

            value = self.guarded(
                ("output", id(self), name), f"{self.prefix}output.{name}",
                lambda: self.safe(attribute.expr, self.scope(shown), f"{self.prefix}output.{name}"),
                cycle,
            )
        self._outputs[name] = value
        return value

    def outputs(self) -> dict:
        return {name: self.output(name) for name in self.config.outputs}

    # -- resources, modules, providers --------------------------------------------

    def resource(self, mode: str, type_: str, name: str, step: Any) -> "_ResourceNode":
        key = (mode, type_, name)
        node = self._resources.get(key)
        if node is None:
            table = self.config.resources if mode == "managed" else self.config.data
            decl = table.get((type_, name))
            if decl is None:
                what = f"{'data.' if mode == 'data' else ''}{type_}.{name}"
                raise EvalError(f"reference to undeclared resource {what}", getattr(step, "line", None), getattr(step, "column", None))
            node = _ResourceNode(self, decl)
            self._resources[key] = node
        return node

    def module_call(self, name: str, step: Any) -> "_CallNode":
        node = self._calls.get(name)
        if node is None:
            entry = self.config.calls.get(name)
            if entry is None:
                raise EvalError(f"reference to undeclared module '{name}'", getattr(step, "line", None), getattr(step, "column", None))
            node = _CallNode(self, name, entry[0], entry[1])
            self._calls[name] = node
        return node

    def provider(self, key: str) -> _Provider:
        cached = self._providers.get(key)
        if cached is not None:
            return cached
        if key in self._provider_blocks:
            block, shown = self._provider_blocks[key]
            if "for_each" in block.body.attributes:
                provider = self._iterated_provider(key, block, shown)
            else:
                provider = self._evaluate_provider(key, block, shown)
        elif key in self.inherited:
            provider = self.inherited[key]
        elif "." in key:
            reason = f"provider configuration {key} is not declared{' or passed to ' + self.address if self.address else ''}"
            provider = _Provider(self.prefix + key, Unknown(reason), Unknown(reason))
            self.loader.note(f"{self.config.shown}: {reason}")
        else:
            provider = _Provider(key, None, {})
        self._providers[key] = provider
        return provider

    def _iterated_provider(self, key: str, block: hcl.Block, shown: str) -> _Provider:
        """OpenTofu's ``for_each`` on a provider block: one configuration per key, each evaluated
        with its ``each.key`` / ``each.value``; used as ``aws.by_region[key]``."""
        expansion = _expand(self, block.body, shown, f"provider {self.prefix}{key}", "provider")
        if expansion.kind == "unknown":
            unknown = expansion.unknown or Unknown(f"the for_each of provider {self.prefix}{key} is unknown")
            return _Provider(self.prefix + key, unknown, unknown, instances=unknown)
        instances = {to_string(instance_key): self._evaluate_provider(key, block, shown, symbols, instance_key)
                     for instance_key, symbols, _ in expansion.items}
        reason = f"provider {self.prefix}{key} has for_each: its instances are {self.prefix}{key}[key]"
        return _Provider(self.prefix + key, Unknown(reason), Unknown(reason), instances=instances)

    def provider_for(self, expr: hcl.Expr | None, default: str, scope: Scope, at: Any) -> _Provider:
        """The configuration a ``provider = ...`` argument or a ``providers`` map value names
        (``default`` when there is none; ``at`` is then where the block using it is), an instance
        key evaluated in ``scope``. What OpenTofu refuses is a located error; an unknown key gives
        an instance whose region is unknown, not an error."""
        reference = _provider_reference(expr) if expr is not None else (default, None)
        if reference is None:
            self.loader.error("provider must be a provider configuration such as aws.replica or aws.by_region[each.key]",
                              scope.file, expr.line, expr.column)
            reference = (default, None)
        key, index_expr = reference
        provider = self.provider(key)
        if index_expr is None:
            if provider.instances is None:
                return provider
            place = expr if expr is not None else at
            self.loader.error(f"provider configuration {key} has for_each: name one of its instances ({key}[...])",
                              scope.file, place.line, place.column)
            return _refused(provider, f"{key} is used without an instance key")
        if provider.instances is None:
            self.loader.error(f"provider configuration {key} has no for_each: it cannot be indexed",
                              scope.file, index_expr.line, index_expr.column)
            return provider
        index = materialize(self.safe(index_expr, scope, f"the instance key of provider {key}"))
        if isinstance(index, (Unknown, Reference)):
            return _some_instance(provider, as_unknown(index))
        if isinstance(provider.instances, Unknown):
            return _some_instance(provider, provider.instances)
        found = None if index is None or isinstance(index, (dict, list)) else provider.instances.get(to_string(index))
        if found is None:
            shown = _key_suffix(index) if isinstance(index, (str, int)) and not isinstance(index, bool) else "[...]"
            self.loader.error(f"provider configuration {key} has no instance {shown}", scope.file, index_expr.line, index_expr.column)
            return _refused(provider, f"{key} has no instance {shown}")
        return found

    def _evaluate_provider(self, key: str, block: hcl.Block, shown: str, symbols: dict | None = None,
                           instance_key: Any = None) -> _Provider:
        scope = self.scope(shown, symbols)
        key = key + _key_suffix(instance_key)
        region: Any = None
        attribute = block.body.attributes.get("region")
        if attribute is not None:
            region = _scalar_region(materialize(self.safe(attribute.expr, scope, f"provider {key} region")))
        tags: Any = {}
        for tags_block in block.body.blocks_of("default_tags"):
            tags_attr = tags_block.body.attributes.get("tags")
            if tags_attr is not None:
                tags = _home(materialize(self.safe(tags_attr.expr, scope, f"provider {key} default_tags")), shown, (tags_attr.line, tags_attr.column))
                if tags is None:
                    tags = {}
        other_account = any(name in block.body.attributes or block.body.blocks_of(name) for name in _ACCOUNT_SWITCHES)
        account = None
        allowed = block.body.attributes.get("allowed_account_ids")
        if allowed is not None:
            ids = materialize(self.safe(allowed.expr, scope, f"provider {key} allowed_account_ids"))
            if isinstance(ids, list) and len(ids) == 1 and isinstance(ids[0], str) and ids[0].isdigit():
                account = ids[0]
        return _Provider(self.prefix + key, region, tags, other_account, account)

    def child_providers(self, call: "_CallNode", symbols: dict) -> dict:
        """The configurations one instance of a module call passes (``symbols``: its each/count)."""
        mapping = call.block.body.attributes.get("providers")
        if mapping is None:
            return {key: self.provider(key) for key in self._default_keys()}
        result: dict[str, _Provider] = {}
        if not isinstance(mapping.expr, hcl.ObjectExpr):
            self.loader.error("providers must be a map of provider configurations", call.file, mapping.line, mapping.column)
            return result
        scope = self.scope(call.file, symbols)
        for key_expr, value_expr in mapping.expr.items:
            child_key = hcl.traversal_name(key_expr)
            if child_key is None or _provider_reference(value_expr) is None:
                self.loader.error("providers entries must look like aws = aws.alias (or aws.alias[key])",
                                  call.file, key_expr.line, key_expr.column)
                continue
            result[child_key] = self.provider_for(value_expr, child_key, scope, value_expr)
        return result

    def _default_keys(self) -> list[str]:
        keys = {key for key in self.inherited if "." not in key}
        keys.update(key for key in self._provider_blocks if "." not in key)
        return sorted(keys)

    # -- collecting instances -----------------------------------------------------

    def collect(self, instances: list[Instance], data_sources: list[Instance]) -> None:
        for name in self.config.locals:  # every local, so that a cycle is reported even if unused
            self.local(name, None)
        for decl in self.config.resources.values():
            instances.extend(self._confined(decl, lambda node: node.instances()))
        for decl in self.config.data.values():
            data_sources.extend(self._confined(decl, lambda node: node.instances()))
        for name in self.config.calls:
            call = self.module_call(name, None)
            for child in call.children():
                child.collect(instances, data_sources)


    def _confined(self, decl: Decl, build: Callable[["_ResourceNode"], list[Instance]]) -> list[Instance]:
        """One resource's instances; a defect of ours while evaluating it costs that resource only
        (a located error at its block), never the module's other results."""
        node = self.resource(decl.mode, decl.type, decl.name, None)
        try:
            return build(node)
        except BudgetExceeded as exc:
            if exc.line is None:  # ran out outside any expression (expanding blocks): at the resource
                exc.file, exc.line, exc.column = decl.file, decl.block.line, decl.block.column
            raise
        except (RecursionError, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - one resource must never cost the module its results
            self.loader.error(f"{node.address}: internal error while evaluating it ({type(exc).__name__}: {exc}); please report it",
                              decl.file, decl.block.line, decl.block.column)
            return []


def _and_exists(first: Any, second: Any) -> Any:
    if first is True:
        return second
    if second is True:
        return first
    return first if isinstance(first, Unknown) else second


# ---------------------------------------------------------------------------
# count / for_each
# ---------------------------------------------------------------------------


@dataclass
class _Expansion:
    kind: str  # 'single', 'count', 'for_each', 'unknown'
    items: list  # (key, symbols, exists)
    unknown: Unknown | None = None
    meta: str = ""  # 'count' or 'for_each' for the unknown kind


def _expand(module: _Module, body: hcl.Body, file: str, address: str, what: str) -> _Expansion:
    """The instances a block with count/for_each stands for."""
    count_attr = body.attributes.get("count")
    each_attr = body.attributes.get("for_each")
    scope = module.scope(file)
    if count_attr is not None:
        value = materialize(module.safe(count_attr.expr, scope, f"{address} count"))
        if isinstance(value, Reference):
            value = as_unknown(value)
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                pass
        if isinstance(value, Unknown):
            options = value.candidates
            if options and all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in options):
                low, high = min(options), max(options)
                _check_instances(module, high, address, file, count_attr)
                reason = f"count of {address} is unknown: {value.reason}"
                items = []
                for i in range(high):
                    exists: Any = True if i < low else Unknown(reason, value.refs)
                    items.append((i, {"count": {"index": i}}, exists))
                if low < high:
                    module.loader.note(f"{address}: count is one of {sorted(set(options))} ({value.reason}); instances beyond {low} may not exist")
                return _Expansion("count", items)
            reason = f"count of {address} is unknown: {value.reason}"
            unknown = Unknown(reason, value.refs)
            module.loader.note(f"{address}: count is unknown ({value.reason}): one instance stands for all of them")
            return _Expansion("unknown", [(None, {"count": {"index": unknown}}, unknown)], unknown, "count")
        problem = _count_problem(value)
        if problem is not None:
            # Terraform refuses the configuration ("Invalid count argument"): an error, not a guess.
            module.loader.error(f"{address}: count {problem}", file, count_attr.line, count_attr.column)
            return _Expansion("count", [])
        if not _check_instances(module, value, address, file, count_attr):
            return _Expansion("count", [])
        return _Expansion("count", [(i, {"count": {"index": i}}, True) for i in range(value)])
    if each_attr is not None:
        value = module.safe(each_attr.expr, scope, f"{address} for_each")
        while isinstance(value, Lazy):
            value = value.value()
        if isinstance(value, Reference):
            value = as_unknown(value)
        pairs: list | None = None
        if isinstance(value, dict):
            pairs = [(key, value[key]) for key in sorted(value)]
        elif isinstance(value, list):
            materialized = materialize(value)
            if not any(isinstance(item, (Unknown, Reference)) for item in materialized):
                keys = []
                for item in materialized:
                    if isinstance(item, (dict, list)) or item is None:
                        module.loader.note(f"{file}:{each_attr.line}:{each_attr.column}: {address}: for_each over a list needs strings")
                        return _Expansion("for_each", [])
                    keys.append(to_string(item))
                pairs = [(key, key) for key in sorted(set(keys))]
            else:
                value = next(as_unknown(i) for i in materialized if isinstance(i, (Unknown, Reference)))
        if pairs is not None:
            if not _check_instances(module, len(pairs), address, file, each_attr):
                return _Expansion("for_each", [])
            return _Expansion("for_each", [(key, {"each": {"key": key, "value": item}}, True) for key, item in pairs])
        if value is None:
            module.loader.note(f"{file}:{each_attr.line}:{each_attr.column}: {address}: for_each is null")
            return _Expansion("for_each", [])
        if not isinstance(value, Unknown):
            module.loader.note(f"{file}:{each_attr.line}:{each_attr.column}: {address}: for_each must be a map or a set of strings")
            return _Expansion("for_each", [])
        reason = f"for_each of {address} is unknown: {value.reason}"
        unknown = Unknown(reason, value.refs)
        module.loader.note(f"{address}: for_each is unknown ({value.reason}): one instance stands for all of them")
        return _Expansion("unknown", [(None, {"each": {"key": unknown, "value": unknown}}, unknown)], unknown, "for_each")
    return _Expansion("single", [(None, {}, True)])


def _count_problem(value: Any) -> str | None:
    """Why Terraform rejects this known ``count`` value, or None when it is a valid count."""
    if value is None:
        return "must not be null"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be a whole number, not {_shown(value)}"
    if isinstance(value, float):
        return f"must be a whole number, not {value!r}" if not value.is_integer() else f"is too large ({value!r})"
    if value < 0:
        return f"must not be negative ({value})"
    return None


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return "the string " + json.dumps(value[:40] + ("..." if len(value) > 40 else ""))
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else type(value).__name__


def _check_instances(module: _Module, count: int, address: str, file: str, attribute: hcl.Attribute) -> bool:
    """False (and a located error) when ``count`` instances are more than the budget allows."""
    try:
        check_instances(count, address)
    except BudgetExceeded as exc:
        module.loader.error(exc.message, file, attribute.line, attribute.column)
        return False
    spend(count)
    return True


# ---------------------------------------------------------------------------
# resources and data sources
# ---------------------------------------------------------------------------


class _ResourceNode(Lazy):
    __slots__ = ("module", "decl", "address", "_expansion", "_nodes", "_extra")

    def __init__(self, module: _Module, decl: Decl):
        self.module = module
        self.decl = decl
        local = f"{'data.' if decl.mode == 'data' else ''}{decl.type}.{decl.name}"
        self.address = module.prefix + local
        self._expansion: _Expansion | None = None
        self._nodes: list[_InstanceNode] = []
        self._extra: dict[Any, _InstanceNode] = {}

    def expansion(self) -> _Expansion:
        if self._expansion is None:
            key = ("expand", id(self))
            cycle = self.module.loader.enter(key, f"{self.address} (count/for_each)")
            if cycle is not None:
                self.module.loader.note(f"cycle: {' -> '.join(cycle)}")
                unknown = Unknown(f"the count/for_each of {self.address} depends on itself")
                return _Expansion("unknown", [(None, {}, unknown)], unknown)
            try:
                expansion = _expand(self.module, self.decl.block.body, self.decl.file, self.address, "resource")
            finally:
                self.module.loader.leave(key)
            self._expansion = expansion
            self._nodes = [_InstanceNode(self, key_, symbols, exists) for key_, symbols, exists in expansion.items]
        return self._expansion

    def nodes(self) -> list["_InstanceNode"]:
        self.expansion()
        return self._nodes

    def instances(self) -> list[Instance]:
        return [node.instance() for node in self.nodes()]

    # Lazy protocol
    def get_attr(self, name: str, step: Any) -> Any:
        expansion = self.expansion()
        if expansion.kind == "single":
            return self._nodes[0].get_attr(name, step)
        if expansion.kind == "unknown":
            return Unknown(expansion.unknown.reason if expansion.unknown else "unknown", (self.address,))
        raise EvalError(
            f"{self.address} has {'count' if expansion.kind == 'count' else 'for_each'} set: its attributes are accessed per instance ({self.address}[...])",
            getattr(step, "line", None), getattr(step, "column", None),
        )

    def get_index(self, key: Any, step: Any) -> Any:
        expansion = self.expansion()
        if isinstance(key, (dict, list)) or key is None:
            raise EvalError("invalid instance key", step.line, step.column)
        if expansion.kind == "single":
            raise EvalError(f"{self.address} has neither count nor for_each: it cannot be indexed", step.line, step.column)
        if expansion.kind == "unknown":
            norm: Any = key
            if expansion.meta == "count":
                try:
                    norm = int(key)
                except (TypeError, ValueError):
                    raise EvalError(f"invalid count index {key!r}", step.line, step.column) from None
                symbols = {"count": {"index": norm}}
            else:
                norm = to_string(key)
                symbols = {"each": {"key": norm, "value": Unknown(expansion.unknown.reason if expansion.unknown else "unknown")}}
            node = self._extra.get(norm)
            if node is None:
                node = _InstanceNode(self, norm, symbols, expansion.unknown or True)
                self._extra[norm] = node
            return node
        if isinstance(key, bool):
            raise EvalError("invalid instance key", step.line, step.column)
        wanted = to_string(key)
        for node in self._nodes:
            if str(node.key) == wanted:
                return node
        raise EvalError(f"{self.address} has no instance [{wanted if expansion.kind == 'count' else json.dumps(wanted)}]", step.line, step.column)

    def elements(self) -> Any:
        expansion = self.expansion()
        if expansion.kind == "unknown":
            return Unknown(expansion.unknown.reason if expansion.unknown else "unknown", (self.address,))
        unsure = next((n.exists for n in self._nodes if isinstance(n.exists, Unknown)), None)
        if unsure is not None:
            return Unknown(unsure.reason, (self.address,))
        return list(self._nodes)

    def value(self) -> Any:
        expansion = self.expansion()
        if expansion.kind == "single":
            return self._nodes[0]
        if expansion.kind == "unknown":
            return Unknown(expansion.unknown.reason if expansion.unknown else "unknown", (self.address,))
        if expansion.kind == "count":
            unsure = next((n.exists for n in self._nodes if isinstance(n.exists, Unknown)), None)
            if unsure is not None:
                return Unknown(unsure.reason, (self.address,))
            return list(self._nodes)
        return {node.key: node for node in self._nodes}


class _InstanceNode(Lazy):
    __slots__ = ("resource", "key", "symbols", "exists", "address", "_args", "_groups", "_scope", "_provider")

    def __init__(self, resource: _ResourceNode, key: Any, symbols: dict, exists: Any):
        self.resource = resource
        self.key = key
        self.symbols = symbols
        self.exists = exists
        self.address = resource.address + _key_suffix(key)
        self._args: dict[str, Any] = {}
        self._groups: dict[str, Any] = {}
        self._scope: Scope | None = None
        self._provider: _Provider | None = None

    @property
    def decl(self) -> Decl:
        return self.resource.decl

    def scope(self) -> Scope:
        if self._scope is None:
            self._scope = self.resource.module.scope(self.decl.file, self.symbols)
        return self._scope

    def _skip_attr(self, name: str) -> bool:
        return name in _RESOURCE_META_ATTRS

    def argument(self, name: str) -> Any:
        """The evaluated value of a top-level argument (not placed: may hold Lazy values)."""
        attribute = self.decl.block.body.attributes[name]
        return self._memo(self._args, "arg", name, lambda: self.resource.module.safe(
            attribute.expr, self.scope(), f"{self.address}.{name}"))

    def group(self, block_type: str) -> Any:
        """The evaluated nested blocks of one type (LineList or UnknownBlocks)."""
        return self._memo(self._groups, "group", block_type, lambda: _block_group(
            self.resource.module, self.decl.block.body, block_type, self.scope(), self.decl.file))

    def _memo(self, cache: dict, kind: str, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per instance, with a reference cycle reported (a note) and made unknown."""
        if name in cache:
            return cache[name]
        module = self.resource.module
        label = f"{self.address}.{name}"

        def cycle(labels: list[str]) -> Any:
            module.loader.note(f"cycle: {' -> '.join(labels)}")
            return Unknown(f"{label} depends on itself")

        cache[name] = value = module.guarded((kind, id(self), name), label, compute, cycle)
        return value

    def has_group(self, block_type: str) -> bool:
        for item in self.decl.block.body.items:
            if isinstance(item, hcl.Block) and (item.type == block_type or item.type == "dynamic" and item.labels[:1] == [block_type]):
                return block_type not in _RESOURCE_META_BLOCKS
        return False

    # Lazy protocol
    def get_attr(self, name: str, step: Any) -> Any:
        """The configured value when it is known (Terraform knows it at plan time), else a Reference."""
        decl = self.decl
        data = decl.mode == "data"
        value: Any = None
        if name in _ALWAYS_COMPUTED and not data:
            value = None
        elif name in decl.block.body.attributes and not self._skip_attr(name):
            value = materialize(self.argument(name))
        elif self.has_group(name):
            value = self.group(name)
        if value is not None and not isinstance(value, Unknown) and find_unknown(value) is None:
            return value
        if data:
            if decl.type == "aws_iam_policy_document" and name in ("json", "minified_json"):
                return policy_document_json(self.values(), self.address)  # computed at plan time
            fact = self._provider_fact(name) if value is None else None
            if fact is not None:
                return fact
            managed = self._aws_managed_key(name) if value is None else None
            if managed is not None:
                return managed
            return Unknown(f"data source {self.address} is read at apply time", (self.address,))
        return Reference(self.address, name, decl.type)

    def _aws_managed_key(self, name: str) -> Any:
        """A KMS key looked up by an AWS managed alias (``data "aws_kms_key"`` with ``key_id =
        "alias/aws/backup"``, ``data "aws_kms_alias"`` with that ``name``): its ARN is read at apply
        time, but it is that AWS managed key. An Unknown whose one candidate is the alias."""
        decl = self.decl
        if decl.type == "aws_kms_key" and name in ("arn", "id"):
            argument = "key_id"
        elif decl.type == "aws_kms_alias" and name in ("arn", "target_key_arn", "target_key_id"):
            argument = "name"
        else:
            return None
        if argument not in decl.block.body.attributes:
            return None
        given = materialize(self.argument(argument))
        if not isinstance(given, str):
            return None
        alias = given.split(":", 5)[5] if given.startswith("arn:") and given.count(":") >= 5 else given
        if not alias.startswith("alias/aws/"):
            return None
        return Unknown(f"{self.address} looks up {alias}",
                       (self.address,), (alias,))

    def _provider_fact(self, name: str) -> Any:
        """Data sources without arguments that describe their provider: aws_region and aws_partition (from
        its region), aws_caller_identity (the --account-id given, unless the provider may switch account)."""
        decl = self.decl
        arguments = set(decl.block.body.attributes) - _RESOURCE_META_ATTRS  # provider, for_each... choose, not filter
        if decl.type not in ("aws_region", "aws_partition", "aws_caller_identity") or arguments:
            return None
        if decl.type == "aws_caller_identity":
            provider = self.provider()
            account = provider.account or (None if provider.other_account else self.resource.module.loader.account_id)
            if name not in ("account_id", "id"):
                return None
            if account is None and not provider.other_account:
                # the deploying account, whatever its number: an ARN built from it names the
                # source's own account, as ${AWS::AccountId} does in CloudFormation
                return Unknown(f"data source {self.address} is read at apply time", (self.address,), text="${AWS::AccountId}")
            return account
        region = self.provider().region
        if not isinstance(region, str):
            return None
        if decl.type == "aws_region":
            return region if name in ("name", "region", "id") else None
        partition = next((p for prefix, p in _PARTITIONS if region.startswith(prefix)), "aws")
        if name == "partition":
            return partition
        if name == "dns_suffix":
            return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com" if partition in ("aws", "aws-us-gov") else None
        return None

    def provider(self) -> _Provider:
        if self._provider is None:
            attribute = self.decl.block.body.attributes.get("provider")
            self._provider = self.resource.module.provider_for(
                attribute.expr if attribute is not None else None, self.decl.type.split("_", 1)[0], self.scope(),
                self.decl.block)
        return self._provider

    def get_index(self, key: Any, step: Any) -> Any:
        raise EvalError(f"{self.address} is a single instance: it cannot be indexed", step.line, step.column)

    def value(self) -> Any:
        if self.decl.mode == "data":
            return Unknown(f"data source {self.address} is read at apply time", (self.address,))
        return Reference(self.address, None, self.decl.type)

    # building the Instance
    def values(self) -> LineDict:
        block = self.decl.block
        file = self.decl.file
        out = LineDict(line=block.line, column=block.column)
        seen_groups: set[str] = set()
        for item in block.body.items:
            if isinstance(item, hcl.Attribute):
                if self._skip_attr(item.name):
                    continue
                out[item.name] = _home(self.argument(item.name), file, (item.line, item.column))
                out.key_pos[item.name] = (item.line, item.column)
                continue
            block_type = item.labels[0] if item.type == "dynamic" and item.labels else item.type
            if item.type in _RESOURCE_META_BLOCKS or block_type in seen_groups:
                continue
            if item.type == "dynamic" and not item.labels:
                continue
            seen_groups.add(block_type)
            out[block_type] = self.group(block_type)
            out.key_pos[block_type] = (item.line, item.column)
        return out

    def instance(self) -> Instance:
        module = self.resource.module
        decl = self.decl
        provider = self.provider()
        region = provider.region
        values = self.values()
        file, line, column = module.anchor or (decl.file, decl.block.line, decl.block.column)
        if module.anchor is not None:
            values = _home(values, "", (line, column))  # every position at the module call
        origin = Origin(file, line, column, region=region if isinstance(region, str) else None, account=provider.account)
        return Instance(
            address=self.address,
            type=decl.type,
            name=decl.name,
            values=values,
            origin=origin,
            region=region,
            default_tags=provider.default_tags,
            provider=provider.address,
            key=self.key,
            exists=_and_exists(module.exists, self.exists),
            module=module.address,
            mode=decl.mode,
        )


# ---------------------------------------------------------------------------
# nested blocks
# ---------------------------------------------------------------------------


def _block_body(module: _Module, body: hcl.Body, scope: Scope, file: str, position: tuple[int, int]) -> LineDict:
    out = LineDict(line=position[0], column=position[1])
    seen: set[str] = set()
    for item in body.items:
        if isinstance(item, hcl.Attribute):
            value = materialize(module.safe(item.expr, scope, item.name))
            out[item.name] = _home(value, file, (item.line, item.column))
            out.key_pos[item.name] = (item.line, item.column)
            continue
        block_type = item.labels[0] if item.type == "dynamic" and item.labels else item.type
        if block_type in seen or item.type == "dynamic" and not item.labels:
            continue
        seen.add(block_type)
        out[block_type] = _block_group(module, body, block_type, scope, file)
        out.key_pos[block_type] = (item.line, item.column)
    return out


def _block_group(module: _Module, body: hcl.Body, block_type: str, scope: Scope, file: str) -> Any:
    """All blocks of ``block_type`` in ``body`` (static and dynamic, in source order)."""
    known: LineList | None = None
    templates = LineList()
    unknowns: list[Unknown] = []
    for item in body.items:
        if not isinstance(item, hcl.Block):
            continue
        if item.type == block_type:
            if known is None:
                known = LineList(line=item.line, column=item.column)
            known.append(_block_body(module, item.body, scope, file, (item.line, item.column)))
            known.item_pos.append((item.line, item.column))
            continue
        if item.type != "dynamic" or item.labels[:1] != [block_type]:
            continue
        if known is None:
            known = LineList(line=item.line, column=item.column)
        position = (item.line, item.column)
        content = item.body.blocks_of("content")
        each_attr = item.body.attributes.get("for_each")
        if not content or each_attr is None:
            module.loader.note(f"{file}:{item.line}:{item.column}: dynamic block '{block_type}' needs for_each and content")
            continue
        iterator = block_type
        iterator_attr = item.body.attributes.get("iterator")
        if iterator_attr is not None:
            iterator = hcl.traversal_name(iterator_attr.expr) or block_type
        collection = module.safe(each_attr.expr, scope, f"dynamic block '{block_type}' for_each")
        while isinstance(collection, Lazy):
            collection = collection.value()
        if isinstance(collection, (Unknown, Reference)):
            cause = as_unknown(collection)
            unknown = Unknown(f"dynamic block '{block_type}' for_each is unknown: {cause.reason}", cause.refs)
            unknowns.append(unknown)
            inner = scope.with_symbols({iterator: {"key": unknown, "value": unknown}})
            templates.append(_block_body(module, content[0].body, inner, file, position))
            templates.item_pos.append(position)
            continue
        if isinstance(collection, dict):
            pairs = [(key, collection[key]) for key in sorted(collection)]
        elif isinstance(collection, list):
            pairs = list(enumerate(collection))
        else:
            if collection is not None:
                module.loader.note(f"{file}:{each_attr.line}:{each_attr.column}: dynamic block '{block_type}' for_each is not a collection")
            continue
        try:
            check_items(len(known) + len(pairs), f"dynamic block '{block_type}'")
        except BudgetExceeded as exc:
            module.loader.error(exc.message, file, each_attr.line, each_attr.column)
            continue
        for key, element in pairs:
            spend(8)  # a block is a dict with positions, not one value
            inner = scope.with_symbols({iterator: {"key": key, "value": element}})
            known.append(_block_body(module, content[0].body, inner, file, position))
            known.item_pos.append(position)
    if known is None:
        known = LineList()
    if unknowns:
        refs = tuple(dict.fromkeys(r for u in unknowns for r in u.refs))
        return UnknownBlocks(unknowns[0].reason, refs, (), True, None, known, templates)
    return known


def _home(value: Any, file: str, position: tuple[int, int]) -> Any:
    """Plain LineDict/LineList data whose positions are in ``file`` (foreign ones move to ``position``)."""
    while isinstance(value, Lazy):
        value = value.value()
    if isinstance(value, dict):
        own = isinstance(value, HclObject) and value.file == file
        out = LineDict(line=value.line if own else position[0], column=value.column if own else position[1])
        for key, item in value.items():
            key_position = value.key_pos.get(key, position) if own else position
            out[key] = _home(item, file, key_position)
            out.key_pos[key] = key_position
        return out
    if isinstance(value, list):
        own = isinstance(value, HclList) and value.file == file
        out_list = LineList(line=value.line if own else position[0], column=value.column if own else position[1])
        for i, item in enumerate(value):
            item_position = value.pos(i) if own else position
            out_list.append(_home(item, file, item_position))
            out_list.item_pos.append(item_position)
        return out_list
    return value


# ---------------------------------------------------------------------------
# module calls
# ---------------------------------------------------------------------------


class _ModuleRef(Lazy):
    """One instance of a module call, used as a value (``module.x[0]``)."""

    __slots__ = ("child",)

    def __init__(self, child: _Module):
        self.child = child

    def get_attr(self, name: str, step: Any) -> Any:
        return self.child.output(name, step)

    def value(self) -> Any:
        return self.child.outputs()


_MODULE_NAME = re.compile(r"module\.([^.\[]+)")  # the call names in "module.a[0].module.b"


class _CallNode(Lazy):
    __slots__ = ("module", "name", "block", "file", "source", "directory", "installed", "_children", "_kind", "_unknown",
                 "_followed")

    def __init__(self, module: _Module, name: str, block: hcl.Block, file: str):
        self.module = module
        self.name = name
        self.block = block
        self.file = file
        self.source: str | None = None
        self.directory: Path | None = None
        self.installed = False  # read from .terraform/modules (downloaded by terraform init)
        self._children: list[_Module] | None = None
        self._kind = "single"
        self._unknown: Unknown | None = None
        self._followed = False
        source_attr = block.body.attributes.get("source")
        if source_attr is not None and isinstance(source_attr.expr, hcl.Literal) and isinstance(source_attr.expr.value, str):
            self.source = source_attr.expr.value
        loader = module.loader
        address = f"{module.prefix}module.{name}"
        if self.source is None:
            loader.error(f"module '{name}' needs a literal source", file, block.line, block.column)
            return
        if self.source in (".", "..") or self.source.startswith(("./", "../", ".\\", "..\\")):
            directory = Path(os.path.normpath(module.config.directory / self.source))
        else:
            installed = loader.installed_module(".".join(_MODULE_NAME.findall(address)))
            if installed is None or not installed.is_dir():
                loader.note(f"module '{address}' (source {self.source}) was not followed (run terraform init to have it read)")
                return
            loader.note(f"module '{address}' (source {self.source}) was read from {loader.show(installed)}")
            directory = installed
            self.installed = True
        reference = f"module '{name}' source {json.dumps(self.source)}" + (" (installed by terraform init)" if self.installed else "")
        if loader.outside(directory, reference, file, source_attr.line, source_attr.column):
            return
        if not directory.is_dir():
            loader.error(f"module '{name}': source directory '{self.source}' does not exist", file, block.line, block.column)
            return
        if directory in module.ancestors:
            loader.error(f"module '{name}' (source {self.source}) includes itself", file, block.line, block.column)
            return
        if module.depth + 1 > _MAX_DEPTH:
            loader.error(f"module '{name}': modules are nested more than {_MAX_DEPTH} levels deep", file, block.line, block.column)
            return
        self.directory = directory
        self._followed = True

    def children(self) -> list[_Module]:
        if self._children is not None:
            return self._children
        self._children = []
        if not self._followed or self.directory is None:
            return self._children
        module = self.module
        loader = module.loader
        base = f"{module.prefix}module.{self.name}"
        key = ("call", id(self))
        cycle = loader.enter(key, f"{base} (count/for_each)")
        if cycle is not None:
            loader.note(f"cycle: {' -> '.join(cycle)}")
            return self._children
        try:
            expansion = _expand(module, self.block.body, self.file, base, "module")
        finally:
            loader.leave(key)
        self._kind = expansion.kind
        self._unknown = expansion.unknown
        config = loader.config(self.directory)
        for instance_key, symbols, exists in expansion.items:
            child = _Module(
                loader, config, base + _key_suffix(instance_key), module, self, symbols, None,
                module.child_providers(self, symbols),
                module.depth + 1, module.ancestors + (module.config.directory,), _and_exists(module.exists, exists),
                instance_key,
            )
            self._children.append(child)
        return self._children

    def _not_followed(self) -> Unknown:
        return Unknown(f"module.{self.name} (source {self.source}) was not followed")

    def get_attr(self, name: str, step: Any) -> Any:
        children = self.children()
        if not self._followed:
            return self._not_followed()
        if self._kind == "single" and children:
            return children[0].output(name, step)
        if self._kind == "unknown":
            return Unknown(self._unknown.reason if self._unknown else "unknown")
        raise EvalError(f"module.{self.name} has count or for_each: use module.{self.name}[key].{name}", getattr(step, "line", None), getattr(step, "column", None))

    def get_index(self, key: Any, step: Any) -> Any:
        children = self.children()
        if not self._followed:
            return self._not_followed()
        if self._kind == "unknown":
            return Unknown(self._unknown.reason if self._unknown else "unknown")
        for child in children:
            if child.instance_key is not None and str(child.instance_key) == to_string(key):
                return _ModuleRef(child)
        raise EvalError(f"module.{self.name} has no instance {_key_suffix(key)}", step.line, step.column)

    def elements(self) -> Any:
        value = self.value()
        if isinstance(value, dict) and self._kind == "single":
            return [value]
        return value

    def value(self) -> Any:
        children = self.children()
        if not self._followed:
            return self._not_followed()
        if self._kind == "single":
            return children[0].outputs() if children else {}
        if self._kind == "unknown":
            return Unknown(self._unknown.reason if self._unknown else "unknown")
        if self._kind == "count":
            return [_ModuleRef(child) for child in children]
        return {child.instance_key: _ModuleRef(child) for child in children}


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------


def load_module(
    directory: Path,
    variables: dict[str, str] | None = None,
    var_files: list[Path] | None = None,
    display: Callable[[Path], str] = str,
    files: list[Path] | None = None,
    account_id: str | None = None,
    root: Path | None = None,
) -> LoadResult:
    """Load the root module in ``directory`` (see the module docstring).

    ``files`` limits the root module to those files of ``directory`` (a single
    .tf file given on the command line, or scanner fixtures that keep one
    scenario per file); variables files are still read from ``directory``. ``account_id``
    (``--account-id``) is what ``data.aws_caller_identity`` returns for providers that do
    not assume a role or use other credentials. ``root`` is the scan root: a file, module source or
    ``modules.json`` entry whose real path is outside it is not read (a located error names the
    reference); None reads anything (the library default). Evaluation is bounded (:mod:`budget`):
    excess is a located error, and exhausting the total work stops the load with one error.
    """
    directory = Path(directory)
    loader = Loader(display)
    loader.root_shown = loader.show(directory)
    loader.root_dir = directory
    loader.account_id = account_id
    loader.root = root
    # Without a scan root (the library default) file() still reads only inside the root module's folder.
    loader.files = FileAccess(directory, root if root is not None else Path(os.path.realpath(directory)),
                              loader.show, loader.error)
    instances: list[Instance] = []
    data_sources: list[Instance] = []
    limit = sys.getrecursionlimit()
    if limit < 20000:
        sys.setrecursionlimit(20000)
    try:
        with metered():
            only = None if files is None else [Path(f).name for f in files]
            if loader.outside(directory, "the module folder", loader.root_shown):
                return LoadResult([], loader.errors, loader.notes, [])
            try:
                config = loader.config(Path(os.path.normpath(directory)), only)
                given = root_values(loader, config, directory, variables, var_files)
                module = _Module(loader, config, "", None, None, {}, given, {}, 0, ())
                module.collect(instances, data_sources)
            except RecursionError:
                loader.error("the configuration is nested too deeply to evaluate", loader.root_shown)
            except BudgetExceeded as exc:  # the total work ran out: the module's results would be partial
                loader.error(exc.message, getattr(exc, "file", None) or loader.root_shown, exc.line or 1, exc.column or 1)
                instances, data_sources = [], []
            except MemoryError:
                loader.error("evaluating the module ran out of memory", loader.root_shown)
                instances, data_sources = [], []
    finally:
        sys.setrecursionlimit(limit)
    return LoadResult(instances, loader.errors, loader.notes, data_sources)
