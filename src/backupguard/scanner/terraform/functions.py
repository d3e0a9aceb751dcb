"""Terraform's built-in functions (``lower``, ``merge``, ``format``, ``regex`` ...) over evaluated values.

:data:`FUNCTIONS` maps a name to a Python callable taking already evaluated
arguments; the evaluator (:mod:`evaluate`) does the dispatch, ``try``/``can`` and
``...`` expansion. Two kinds of functions:

* the collection functions (``length``, ``merge``, ``concat`` ...) decide what they
  can when some arguments are unknown (a list with unknown elements still has a length);
* the others are wrapped by :func:`_strict`: an unknown argument gives an Unknown, or
  the result for each candidate when the unknown arguments have a few candidates.

:data:`FILE_FUNCTIONS` (``file``, ``filebase64``, ``fileexists``, ``templatefile``) read the
configuration's own files through the :class:`~backupguard.scanner.terraform.files.FileAccess`
the evaluator passes first: only inside the scanned tree, size-capped, with Terraform's errors.
Other functions that read files or depend on the run (``fileset``, ``filemd5``, ``timestamp``)
are never evaluated: they read nothing and give an Unknown. Functions that could build huge
values refuse to before allocating them (see :mod:`budget`), and the regular
expression functions use RE2 (linear time, Terraform's own syntax and semantics).
"""

from __future__ import annotations

import base64
import json
import math
import re
from itertools import product
from typing import Any, Callable
from urllib.parse import quote

import re2

from backupguard.estate import Reference, Unknown
from backupguard.scanner.terraform.budget import check_items, check_length, spend
from backupguard.scanner.terraform.evaluate import (
    EvalError, Scope, _bare, _combine, _describe, _equal, _is_number, _num, _sorted_set, _to_bool, _to_number,
    as_unknown, evaluate, find_unknown, materialize, to_string,
)
from backupguard.scanner.terraform.files import FileAccess, FileError, free_variables, parse_template
from backupguard.scanner.terraform.hcl import Problem

__all__ = ["FILE_FUNCTIONS", "FUNCTIONS", "fn_jsonencode", "json_text", "placeholders"]


def _strict(function: Callable[..., Any]) -> Callable[..., Any]:
    """A function of known values: unknown arguments give an Unknown (or candidates)."""

    def call(*args: Any) -> Any:
        unknown = find_unknown(*args)
        if unknown is None:
            return function(*args)
        deep = any(
            not isinstance(a, (Unknown, Reference)) and isinstance(a, (dict, list)) and find_unknown(a) is not None
            for a in args
        )
        if deep:
            return unknown
        return _combine(function, *args)

    call.__name__ = function.__name__
    return call


def _str_arg(value: Any) -> str:
    if isinstance(value, (dict, list)) or value is None:
        raise EvalError(f"{_describe(value)} is not a string")
    return to_string(value)


def _list_arg(value: Any) -> list:
    if isinstance(value, list):
        return value
    raise EvalError(f"{_describe(value)} is not a list")


def _map_arg(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    raise EvalError(f"{_describe(value)} is not a map")


def _int_arg(value: Any) -> int:
    number = _to_number(value)
    if not isinstance(number, int):
        raise EvalError(f"{_describe(value)} is not a whole number")
    return number




# -- collection functions that decide what they can -----------------------------------


def fn_length(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    if isinstance(value, (list, dict)):
        return len(value)
    if isinstance(value, str):
        return len(value)
    raise EvalError(f"cannot take the length of {_describe(value)}")


def fn_keys(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    return sorted(_map_arg(value))


def fn_values(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    mapping = _map_arg(value)
    return [mapping[k] for k in sorted(mapping)]


def fn_lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if len(default) > 1:
        raise EvalError("lookup() takes two or three arguments")
    if isinstance(mapping, (Unknown, Reference)):
        return _bare(mapping)
    if isinstance(key, (Unknown, Reference)):
        return _combine(lambda k: fn_lookup(mapping, k, *default), key)
    mapping = _map_arg(mapping)
    key = _str_arg(key)
    if key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise EvalError(f"the map has no element for key {key!r} and no default was given")


def fn_contains(collection: Any, value: Any) -> Any:
    if isinstance(collection, (Unknown, Reference)):
        return _bare(collection)
    items = _list_arg(collection) if not isinstance(collection, dict) else list(collection.values())
    if isinstance(value, (Unknown, Reference)):
        return _combine(lambda v: fn_contains(collection, v), value)
    unknown = None
    for item in items:
        if isinstance(item, (Unknown, Reference)):
            unknown = unknown or _bare(item)
        elif _equal(item, value):
            return True
    return unknown if unknown is not None else False


def fn_merge(*maps: Any) -> Any:
    if any(isinstance(m, Unknown) and m.candidates for m in maps) and not any(isinstance(m, Reference) for m in maps):
        # an object chosen by an unknown condition: merged branch by branch
        return _combine(fn_merge, *maps)
    out: dict = {}
    for mapping in maps:
        if mapping is None:
            continue
        if isinstance(mapping, (Unknown, Reference)):
            return _bare(mapping)
        out.update(_map_arg(mapping))
    return out


def fn_concat(*lists: Any) -> Any:
    """Lists joined; an undetermined argument makes the result unknown, with every argument's refs."""
    out: list = []
    for items in lists:
        if isinstance(items, (Unknown, Reference)):
            return find_unknown(*lists) or _bare(items)
        check_items(len(out) + len(_list_arg(items)), "concat()")
        out.extend(items)
    return out


def fn_flatten(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    out: list = []

    def walk(items: list) -> bool:
        for item in items:
            if isinstance(item, Unknown):
                return False  # it may be a list itself: the length is unknown
            if isinstance(item, list):
                if not walk(item):
                    return False
            else:
                out.append(item)  # a reference is one value (a resource's ARN, ID...)
                check_items(len(out), "flatten()")  # a list nested through locals may share its parts
        return True

    return out if walk(_list_arg(value)) else (find_unknown(value) or _bare(value))


def fn_coalesce(*args: Any) -> Any:
    for arg in args:
        if isinstance(arg, (Unknown, Reference)):
            return _bare(arg)
        if arg is None or arg == "":
            continue
        return arg
    raise EvalError("no non-null, non-empty-string arguments")


def fn_coalescelist(*args: Any) -> Any:
    for arg in args:
        if isinstance(arg, (Unknown, Reference)):
            return _bare(arg)
        if arg is None:
            continue
        if _list_arg(arg):
            return arg
    return []


def fn_element(items: Any, index: Any) -> Any:
    if isinstance(items, (Unknown, Reference)):
        return _bare(items)
    if isinstance(index, (Unknown, Reference)):
        return _combine(lambda i: fn_element(items, i), index)
    items = _list_arg(items)
    if not items:
        raise EvalError("cannot use element() with an empty list")
    position = _int_arg(index)
    if position < 0:
        raise EvalError("element() index must not be negative")
    return items[position % len(items)]


def fn_one(items: Any) -> Any:
    if isinstance(items, (Unknown, Reference)):
        return _bare(items)
    items = _list_arg(items)
    if len(items) > 1:
        raise EvalError(f"one() got a list of {len(items)} elements")
    return items[0] if items else None


def fn_tolist(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    if value is None:
        return None
    return list(_list_arg(value))


def fn_toset(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    items = _list_arg(value)
    if any(isinstance(i, Unknown) for i in items):  # an unknown member may equal a known one
        return find_unknown(*items)
    references = [i for i in items if isinstance(i, Reference)]
    if references:  # the known members sorted, then the referenced values (distinct)
        return fn_toset([i for i in items if not isinstance(i, Reference)]) + fn_distinct(references)
    return _sorted_set([to_string(i) if _is_number(i) or isinstance(i, bool) else i for i in items]
                       if any(isinstance(i, str) for i in items) else list(items))


def fn_tomap(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    if value is None:
        return None
    return _map_arg(value)


def fn_distinct(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    items = _list_arg(value)
    if any(isinstance(i, Unknown) for i in items):
        return find_unknown(*items)
    out: list = []
    for item in items:  # references are kept (two different references are two values)
        if not any(item == seen if isinstance(item, Reference) else _equal(item, seen) for seen in out):
            out.append(item)
    return out


def fn_compact(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    items = _list_arg(value)
    if any(isinstance(i, Unknown) for i in items):  # an unknown item may be "" or null
        return find_unknown(*items)
    return [i if isinstance(i, Reference) else _str_arg(i) for i in items if i is not None and i != ""]


def fn_zipmap(keys: Any, values: Any) -> Any:
    if isinstance(keys, (Unknown, Reference)) or isinstance(values, (Unknown, Reference)):
        return _bare(keys if isinstance(keys, (Unknown, Reference)) else values)
    keys, values = _list_arg(keys), _list_arg(values)
    unknown = find_unknown(*keys)
    if unknown is not None:
        return unknown
    if len(keys) != len(values):
        raise EvalError("zipmap() needs lists of the same length")
    return {_str_arg(k): v for k, v in zip(keys, values)}


def fn_alltrue(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    unknown = None
    for item in _list_arg(value):
        item = _to_bool(item)
        if item is False:
            return False
        if isinstance(item, Unknown):
            unknown = unknown or _bare(item)
    return unknown if unknown is not None else True


def fn_anytrue(value: Any) -> Any:
    if isinstance(value, (Unknown, Reference)):
        return _bare(value)
    unknown = None
    for item in _list_arg(value):
        item = _to_bool(item)
        if item is True:
            return True
        if isinstance(item, Unknown):
            unknown = unknown or _bare(item)
    return unknown if unknown is not None else False


def fn_slice(items: Any, start: Any, end: Any) -> Any:
    if isinstance(items, (Unknown, Reference)):
        return _bare(items)
    if isinstance(start, (Unknown, Reference)) or isinstance(end, (Unknown, Reference)):
        return _bare(start if isinstance(start, (Unknown, Reference)) else end)
    items = _list_arg(items)
    low, high = _int_arg(start), _int_arg(end)
    if not 0 <= low <= high <= len(items):
        raise EvalError(f"slice({low}, {high}) is out of range for a list of {len(items)}")
    return items[low:high]


def fn_jsonencode(value: Any) -> Any:
    unknown = find_unknown(value)
    if unknown is None:
        return json_text(value)
    if not unknown.refs:
        return unknown
    placeholder = placeholders(value)
    return Unknown(unknown.reason, unknown.refs, text=json_text(placeholder))


def placeholders(value: Any) -> Any:
    if isinstance(value, Reference):
        return "${" + str(value) + "}"
    if isinstance(value, Unknown):
        return value.text if value.text is not None else "${?}"
    if isinstance(value, dict):
        return {k: placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [placeholders(v) for v in value]
    return value


def json_text(value: Any) -> str:
    size = [0]
    text = json.dumps(_plain(value, size), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _plain(value: Any, size: list[int]) -> Any:
    """JSON-ready data; ``size[0]`` counts the text it will make, refused before json.dumps builds it
    (a list holding one big string 100,000 times is small in memory, not as text)."""
    size[0] += 2 + (len(value) if isinstance(value, str) else 0)
    check_length(size[0], "the JSON text")
    spend()
    if isinstance(value, dict):
        return {str(k): _plain(v, size) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, size) for v in value]
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise EvalError("jsonencode() cannot encode an infinite number")
        return _num(value)
    return value


def _jsondecode(text: Any) -> Any:
    try:
        data = json.loads(_str_arg(text))
    except json.JSONDecodeError as exc:
        raise EvalError(f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    return _normalise_numbers(data)


def _normalise_numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise_numbers(v) for v in value]
    return _num(value)


def fn_join(separator: Any, *lists: Any) -> Any:
    if isinstance(separator, (Unknown, Reference)):
        return _bare(separator)
    separator = _str_arg(separator)
    items: list = []
    for part in lists:
        if isinstance(part, (Unknown, Reference)):
            return _bare(part)
        items.extend(_list_arg(part))
    unknowns = [i for i in items if isinstance(i, (Unknown, Reference))]
    if not unknowns:
        texts = [_str_arg(i) for i in items]
        check_length(sum(map(len, texts)) + len(separator) * len(texts), "join()")
        return separator.join(texts)
    first = as_unknown(unknowns[0])
    refs = tuple(dict.fromkeys(r for i in unknowns for r in as_unknown(i).refs))
    if refs:
        text = separator.join(
            "${" + str(i) + "}" if isinstance(i, Reference) else (i.text or "${?}") if isinstance(i, Unknown) else _str_arg(i)
            for i in items
        )
        return Unknown(first.reason, refs, text=text)
    return _combine(lambda *xs: separator.join(_str_arg(x) for x in xs), *items)


# -- strict functions -----------------------------------------------------------------


def _format(spec: Any, *args: Any) -> str:
    spec = _str_arg(spec)
    out: list[str] = []
    length = len(spec)
    position = 0
    i = 0
    pattern = re.compile(r"%(?:\[(\d+)\])?([-+ #0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")
    while i < len(spec):
        if spec[i] != "%":
            out.append(spec[i])
            i += 1
            continue
        match = pattern.match(spec, i)
        if not match:
            raise EvalError(f"invalid format verb at {spec[i:i + 5]!r}")
        explicit, flags, width, precision, verb = match.groups()
        i = match.end()
        if verb == "%":
            out.append("%")
            continue
        check_length(int(width or 0), "a format() width")
        check_length(int(precision or 0), "a format() precision")
        if explicit:
            position = int(explicit) - 1
        if position >= len(args):
            raise EvalError("not enough arguments for format()")
        arg = args[position]
        position += 1
        if verb in ("s", "v"):
            text = json_text(arg) if isinstance(arg, (dict, list)) else to_string(arg)
        elif verb == "q":
            text = json.dumps(_str_arg(arg), ensure_ascii=False)
        elif verb == "d":
            text = str(_int_arg(arg))
        elif verb in ("f", "e", "g"):
            text = format(float(_to_number(arg)), f".{precision or 6}{verb}") if verb == "f" or precision else format(float(_to_number(arg)), verb)
        elif verb == "t":
            text = to_string(_to_bool(arg))
        elif verb in ("x", "X", "o", "b"):
            text = format(_int_arg(arg), verb)
        else:
            raise EvalError(f"unsupported format verb %{verb}")
        if width:
            text = text.ljust(int(width)) if "-" in flags else text.rjust(int(width), "0" if "0" in flags else " ")
        out.append(text)
        length += len(text)
        check_length(length, "the format() result")
    return "".join(out)


def _formatlist(spec: Any, *lists: Any) -> list:
    out: list[str] = []
    length = 0
    for i in range(max([len(a) for a in lists if isinstance(a, list)] or [1])):
        out.append(_format(spec, *[a[i] if isinstance(a, list) else a for a in lists]))
        length += len(out[-1])
        check_length(length, "the formatlist() results")
    return out


def _regex(pattern: Any, text: Any) -> Any:
    compiled = _re2(pattern)
    match = compiled.search(_str_arg(text))
    if match is None:
        raise EvalError("the pattern did not match")
    return _match_value(compiled, match)


def _regexall(pattern: Any, text: Any) -> Any:
    compiled = _re2(pattern)
    found = []
    for match in compiled.finditer(_str_arg(text)):
        found.append(_match_value(compiled, match))
        check_items(len(found), "regexall()")
    return found


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # an invalid pattern is an EvalError, not a line on stderr
    return options


_RE2_OPTIONS = _re2_options()


def _re2(pattern: Any) -> Any:
    """A pattern compiled by RE2, the engine (and syntax) Terraform uses: matching takes linear
    time, so ``regex("^(a+)+$", "aaaa...!")`` cannot backtrack for minutes as Python's re does."""
    try:
        return re2.compile(_str_arg(pattern), _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise EvalError(f"invalid regular expression: {reason}") from None


def _match_value(compiled: Any, match: Any) -> Any:
    if compiled.groupindex:
        return {name: match.group(name) for name in compiled.groupindex}
    if compiled.groups:
        return list(match.groups())
    return match.group(0)


def _replace(text: Any, search: Any, replacement: Any) -> str:
    text, search, replacement = _str_arg(text), _str_arg(search), _str_arg(replacement)
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        template = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: "\\g<" + (m.group(1) or m.group(2)) + ">", replacement.replace("\\", "\\\\"))
        compiled = _re2(search[1:-1])
        if replacement:
            matches = sum(1 for _ in compiled.finditer(text))
            check_length(len(text) + matches * len(replacement), "the replace() result")
        return compiled.sub(template, text)
    if search and replacement:
        check_length(len(text) + text.count(search) * (len(replacement) - len(search)), "the replace() result")
    elif replacement:  # an empty search inserts the replacement around every character
        check_length(len(text) + (len(text) + 1) * len(replacement), "the replace() result")
    return text.replace(search, replacement)


def _indent(spaces: Any, text: Any) -> str:
    text, count = _str_arg(text), _int_arg(spaces)
    check_length(len(text) + max(count, 0) * (1 + text.count("\n")), "the indent() result")
    return text.replace("\n", "\n" + " " * count)


def _substr(text: Any, offset: Any, length: Any) -> str:
    text = _str_arg(text)
    start, count = _int_arg(offset), _int_arg(length)
    if start < 0:
        start = max(len(text) + start, 0)
    if start > len(text):
        raise EvalError("offset is beyond the end of the string")
    return text[start:] if count < 0 else text[start:start + count]


def _split(separator: Any, text: Any) -> list:
    separator, text = _str_arg(separator), _str_arg(text)
    if text == "":
        return [""] if separator else []
    return text.split(separator) if separator else list(text)


def _range(*args: Any) -> list:
    numbers = [_to_number(a) for a in args]
    if len(numbers) == 1:
        start, end, step = 0, numbers[0], 1
    elif len(numbers) == 2:
        start, end, step = numbers[0], numbers[1], (1 if numbers[1] >= numbers[0] else -1)
    elif len(numbers) == 3:
        start, end, step = numbers
    else:
        raise EvalError("range() takes one to three arguments")
    if step == 0:
        raise EvalError("range() step must not be zero")
    out: list = []
    value = start
    while (value < end) if step > 0 else (value > end):
        out.append(_num(value))
        value += step
        if len(out) > 1024:
            raise EvalError("range() would produce more than 1024 elements")
    return out


def _minmax(which: Callable[..., Any]) -> Callable[..., Any]:
    def compute(*args: Any) -> Any:
        if not args:
            raise EvalError("needs at least one number")
        return _num(which(_to_number(a) for a in args))

    return compute


def _tostring(value: Any) -> Any:
    if value is None:
        return None
    return _str_arg(value)


def _tonumber(value: Any) -> Any:
    return None if value is None else _to_number(value)


def _tobool(value: Any) -> Any:
    return None if value is None else _to_bool(value)


def _trim(text: Any, chars: Any) -> str:
    return _str_arg(text).strip(_str_arg(chars))


def _trimprefix(text: Any, prefix: Any) -> str:
    text, prefix = _str_arg(text), _str_arg(prefix)
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


def _trimsuffix(text: Any, suffix: Any) -> str:
    text, suffix = _str_arg(text), _str_arg(suffix)
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


def _chomp(text: Any) -> str:
    return _str_arg(text).rstrip("\r\n")  # every trailing newline sequence (a regex would be quadratic)


def _title(text: Any) -> str:
    return re.sub(r"\b([a-z])", lambda m: m.group(1).upper(), _str_arg(text))


def _sort(items: Any) -> list:
    return sorted(_str_arg(i) for i in _list_arg(items))


def _reverse(items: Any) -> list:
    return list(reversed(_list_arg(items)))


def _index_of(items: Any, value: Any) -> int:
    for i, item in enumerate(_list_arg(items)):
        if _equal(item, value):
            return i
    raise EvalError("the value is not in the list")


def _setunion(*sets: Any) -> list:
    return _sorted_set([i for s in sets for i in _list_arg(s)])


def _setintersection(first: Any, *others: Any) -> list:
    items = _sorted_set(_list_arg(first))
    for other in others:
        other_items = _list_arg(other)
        items = [i for i in items if any(_equal(i, o) for o in other_items)]
    return items


def _setsubtract(a: Any, b: Any) -> list:
    remove = _list_arg(b)
    return [i for i in _sorted_set(_list_arg(a)) if not any(_equal(i, r) for r in remove)]


def _setproduct(*sets: Any) -> list:
    lists = [_list_arg(s) for s in sets]
    size = 1
    for items in lists:
        size *= len(items)
        check_items(size, "setproduct()")
    return [list(combo) for combo in product(*lists)]


def _chunklist(items: Any, size: Any) -> list:
    items, size = _list_arg(items), _int_arg(size)
    if size <= 0:
        return [items]
    return [items[i:i + size] for i in range(0, len(items), size)]


def _sum(items: Any) -> Any:
    values = _list_arg(items)
    if not values:
        raise EvalError("sum() of an empty list")
    return _num(sum(_to_number(v) for v in values))


def _transpose(mapping: Any) -> dict:
    out: dict[str, list] = {}
    for key in sorted(_map_arg(mapping)):
        for value in _list_arg(mapping[key]):
            out.setdefault(_str_arg(value), []).append(key)
    return {k: sorted(v) for k, v in out.items()}


def _matchkeys(values: Any, keys: Any, search: Any) -> list:
    values, keys, search = _list_arg(values), _list_arg(keys), _list_arg(search)
    return [v for v, k in zip(values, keys) if any(_equal(k, s) for s in search)]


def _base64encode(text: Any) -> str:
    return base64.b64encode(_str_arg(text).encode("utf-8")).decode("ascii")


def _base64decode(text: Any) -> str:
    try:
        return base64.b64decode(_str_arg(text), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise EvalError("invalid base64 or not UTF-8 text") from None


def _hash(name: str, encode: Callable[[bytes], str]) -> Callable[[Any], str]:
    def compute(text: Any) -> str:
        import hashlib

        return encode(hashlib.new(name, _str_arg(text).encode("utf-8")).digest())

    return compute


def _cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    import ipaddress

    network = ipaddress.ip_network(_str_arg(prefix), strict=False)
    bits, number = _int_arg(newbits), _int_arg(netnum)
    new_prefix = network.prefixlen + bits
    if new_prefix > network.max_prefixlen or not 0 <= number < 2**bits:
        raise EvalError("cidrsubnet(): not enough address space")
    size = 2 ** (network.max_prefixlen - new_prefix)
    address = int(network.network_address) + number * size
    return str(ipaddress.ip_network((address, new_prefix)))


def _cidrhost(prefix: Any, hostnum: Any) -> str:
    import ipaddress

    network = ipaddress.ip_network(_str_arg(prefix), strict=False)
    number = _int_arg(hostnum)
    if number < 0:
        number += network.num_addresses
    if not 0 <= number < network.num_addresses:
        raise EvalError("cidrhost(): host number out of range")
    return str(network.network_address + number)


def _cidrnetmask(prefix: Any) -> str:
    import ipaddress

    return str(ipaddress.ip_network(_str_arg(prefix), strict=False).netmask)


def _parseint(text: Any, base: Any) -> int:
    return int(_str_arg(text), _int_arg(base))


# -- the configuration's files (FileAccess decides what may be read) --------------------


def fn_file(files: FileAccess, path: Any) -> Any:
    return _combine(lambda p: files.text(_str_arg(p), "file"), path)


def fn_filebase64(files: FileAccess, path: Any) -> Any:
    return _combine(lambda p: base64.b64encode(files.read(_str_arg(p), "filebase64")).decode("ascii"), path)


def fn_fileexists(files: FileAccess, path: Any) -> Any:
    return _combine(lambda p: files.exists(_str_arg(p)), path)


_TEMPLATE_NAME = re.compile(r"[^\W\d][\w-]*")  # an HCL identifier: the only names a template can refer to


def fn_templatefile(files: FileAccess, path: Any, variables: Any) -> Any:
    """The template file rendered with ``variables`` and nothing else (Terraform's rule: every
    name the template uses must be a key of the map, checked before rendering). Unknown values
    in the map make the parts that use them unknown; the rest is rendered."""
    if files.in_template:
        raise FileError("cannot call templatefile() from inside a template")
    if isinstance(path, (Unknown, Reference)):
        return _bare(path)
    if isinstance(variables, (Unknown, Reference)):
        return _bare(variables)
    if variables is None:
        raise EvalError("the template variables must be a map, not null")
    text = _str_arg(path)
    names = _map_arg(variables)
    for name in names:
        if not _TEMPLATE_NAME.fullmatch(name):
            raise FileError(f"invalid template variable name {json.dumps(name)}: must start with a letter, "
                            "followed by zero or more letters, digits, and underscores")
    source = files.text(text, "templatefile")
    check_length(len(source), "the template")  # real templates are a few KiB: a huge one is not parsed
    template = parse_template(source)
    shown = files.name(text)
    if isinstance(template, Problem):
        raise FileError(f"{shown}{f':{template.line},{template.column}' if template.line else ''}: {template.message}")
    for variable in free_variables(template):
        if variable.name not in names:
            raise FileError(f"vars map does not contain key {json.dumps(variable.name)}, referenced at "
                            f"{shown}:{variable.line},{variable.column}")
    try:
        return materialize(evaluate(template, Scope(None, dict(names), shown, files.template_access())))
    except EvalError as exc:  # located in the template: named there, reported at the call
        where = f"{shown}:{exc.line},{exc.column}: " if exc.line is not None else f"{shown}: "
        raise type(exc)(where + exc.message) from None


FILE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "file": fn_file,
    "filebase64": fn_filebase64,
    "fileexists": fn_fileexists,
    "templatefile": fn_templatefile,
}
"""Functions whose first argument is the FileAccess of the module being evaluated."""


def _not_evaluated(reason: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return Unknown(reason)

    return call


def _identity(value: Any) -> Any:
    return value


def _map_fn(*args: Any) -> dict:
    if len(args) % 2:
        raise EvalError("map() takes key/value pairs")
    return {_str_arg(args[i]): args[i + 1] for i in range(0, len(args), 2)}


def _list_fn(*args: Any) -> list:
    return list(args)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    # collections (decide what they can with unknown elements)
    "length": fn_length,
    "keys": fn_keys,
    "values": fn_values,
    "lookup": fn_lookup,
    "contains": fn_contains,
    "merge": fn_merge,
    "concat": fn_concat,
    "flatten": fn_flatten,
    "coalesce": fn_coalesce,
    "coalescelist": fn_coalescelist,
    "element": fn_element,
    "one": fn_one,
    "tolist": fn_tolist,
    "toset": fn_toset,
    "tomap": fn_tomap,
    "distinct": fn_distinct,
    "compact": fn_compact,
    "zipmap": fn_zipmap,
    "alltrue": fn_alltrue,
    "anytrue": fn_anytrue,
    "slice": fn_slice,
    "jsonencode": fn_jsonencode,
    "join": fn_join,
    "nonsensitive": _identity,
    "sensitive": _identity,
    # strict
    "jsondecode": _strict(_jsondecode),
    "format": _strict(_format),
    "formatlist": _strict(_formatlist),
    "lower": _strict(lambda s: _str_arg(s).lower()),
    "upper": _strict(lambda s: _str_arg(s).upper()),
    "title": _strict(_title),
    "trimspace": _strict(lambda s: _str_arg(s).strip()),
    "trim": _strict(_trim),
    "trimprefix": _strict(_trimprefix),
    "trimsuffix": _strict(_trimsuffix),
    "chomp": _strict(_chomp),
    "replace": _strict(_replace),
    "substr": _strict(_substr),
    "split": _strict(_split),
    "startswith": _strict(lambda s, p: _str_arg(s).startswith(_str_arg(p))),
    "endswith": _strict(lambda s, p: _str_arg(s).endswith(_str_arg(p))),
    "strcontains": _strict(lambda s, p: _str_arg(p) in _str_arg(s)),
    "strrev": _strict(lambda s: _str_arg(s)[::-1]),
    "indent": _strict(_indent),
    "regex": _strict(_regex),
    "regexall": _strict(_regexall),
    "tostring": _strict(_tostring),
    "tonumber": _strict(_tonumber),
    "tobool": _strict(_tobool),
    "range": _strict(_range),
    "min": _strict(_minmax(min)),
    "max": _strict(_minmax(max)),
    "abs": _strict(lambda n: _num(abs(_to_number(n)))),
    "ceil": _strict(lambda n: math.ceil(_to_number(n))),
    "floor": _strict(lambda n: math.floor(_to_number(n))),
    "signum": _strict(lambda n: (_to_number(n) > 0) - (_to_number(n) < 0)),
    "pow": _strict(lambda a, b: _num(float(_to_number(a)) ** _to_number(b))),
    "parseint": _strict(_parseint),
    "sort": _strict(_sort),
    "reverse": _strict(_reverse),
    "index": _strict(_index_of),
    "setunion": _strict(_setunion),
    "setintersection": _strict(_setintersection),
    "setsubtract": _strict(_setsubtract),
    "setproduct": _strict(_setproduct),
    "chunklist": _strict(_chunklist),
    "sum": _strict(_sum),
    "transpose": _strict(_transpose),
    "matchkeys": _strict(_matchkeys),
    "map": _strict(_map_fn),
    "list": _strict(_list_fn),
    "base64encode": _strict(_base64encode),
    "base64decode": _strict(_base64decode),
    "urlencode": _strict(lambda s: quote(_str_arg(s), safe="")),
    "md5": _strict(_hash("md5", lambda d: d.hex())),
    "sha1": _strict(_hash("sha1", lambda d: d.hex())),
    "sha256": _strict(_hash("sha256", lambda d: d.hex())),
    "sha512": _strict(_hash("sha512", lambda d: d.hex())),
    "base64sha256": _strict(_hash("sha256", lambda d: base64.b64encode(d).decode("ascii"))),
    "base64sha512": _strict(_hash("sha512", lambda d: base64.b64encode(d).decode("ascii"))),
    "cidrsubnet": _strict(_cidrsubnet),
    "cidrhost": _strict(_cidrhost),
    "cidrnetmask": _strict(_cidrnetmask),
    # known only when Terraform runs
    "fileset": _not_evaluated("fileset() lists files when Terraform runs"),
    "filemd5": _not_evaluated("filemd5() reads a file when Terraform runs"),
    "filesha256": _not_evaluated("filesha256() reads a file when Terraform runs"),
    "abspath": _not_evaluated("abspath() depends on where Terraform runs"),
    "timestamp": _not_evaluated("timestamp() is known only at apply time"),
    "plantimestamp": _not_evaluated("plantimestamp() is known only at plan time"),
    "uuid": _not_evaluated("uuid() is known only at apply time"),
    "bcrypt": _not_evaluated("bcrypt() is random"),
    "timeadd": _not_evaluated("timeadd() is not evaluated"),
    "formatdate": _not_evaluated("formatdate() is not evaluated"),
    "yamlencode": _not_evaluated("yamlencode() is not evaluated"),
    "yamldecode": _not_evaluated("yamldecode() is not evaluated"),
}

