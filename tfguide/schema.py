"""A small JSON Schema validator: the subset the project's schema files use, standard library only.

Keywords: `type` (a name or a list: object, array, string, number, integer, boolean, null), `const`, `enum`,
`required`, `properties`, `additionalProperties` (false, or a schema for the other keys), `items`,
`minItems`, `maxItems`, `minimum`, `allOf`, `if`/`then`/`else`, and `$ref` to `#/$defs/<name>`. Any other
keyword is refused when the schema is loaded, so a schema never silently means less than it says. `errors` returns every
violation as "<path>: <what>", the path in JSON Pointer style (`/training/3/accuracy`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

KNOWN = {"$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "type", "const", "enum", "required",
         "properties", "additionalProperties", "items", "minItems", "maxItems", "minimum", "allOf", "if", "then",
         "else"}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class SchemaError(Exception):
    """The schema file itself is wrong."""


def _check_keywords(schema, where: str) -> None:
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise SchemaError(f"{where}: a schema must be an object, not {type(schema).__name__}")
    unknown = set(schema) - KNOWN
    if unknown:
        raise SchemaError(f"{where}: keyword(s) this validator does not implement: {', '.join(sorted(unknown))}")
    for name, sub in schema.get("$defs", {}).items():
        _check_keywords(sub, f"{where}/$defs/{name}")
    for name, sub in schema.get("properties", {}).items():
        _check_keywords(sub, f"{where}/properties/{name}")
    for i, sub in enumerate(schema.get("allOf", [])):
        _check_keywords(sub, f"{where}/allOf/{i}")
    for key in ("items", "additionalProperties", "if", "then", "else"):
        if key in schema:
            _check_keywords(schema[key], f"{where}/{key}")


def load(path: Path) -> dict:
    return load_dict(json.loads(Path(path).read_text(encoding="utf-8")), str(path))


def load_dict(schema: dict, where: str = "schema") -> dict:
    """The schema, once every keyword in it is one this validator implements."""
    _check_keywords(schema, where)
    return schema


def errors(instance, schema: dict, definition: str | None = None) -> list[str]:
    """Every way `instance` breaks `schema`, or the schema's `$defs/<definition>` (empty when it conforms)."""
    out: list[str] = []
    _validate(instance, schema if definition is None else {"$ref": f"#/$defs/{definition}"}, schema, "", out)
    return out


def _validate(value, schema, root: dict, path: str, out: list[str]) -> None:
    where = path or "/"
    if schema is True:
        return
    if schema is False:
        out.append(f"{where}: not allowed")
        return
    if "$ref" in schema:
        prefix = "#/$defs/"
        ref = schema["$ref"]
        if not ref.startswith(prefix) or ref[len(prefix):] not in root.get("$defs", {}):
            raise SchemaError(f"unknown $ref {ref!r}")
        _validate(value, root["$defs"][ref[len(prefix):]], root, path, out)
    for sub in schema.get("allOf", []):
        _validate(value, sub, root, path, out)
    if "if" in schema:
        branch = "then" if not errors_at(value, schema["if"], root, path) else "else"
        if branch in schema:
            _validate(value, schema[branch], root, path, out)
    if "type" in schema:
        types = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if not any(TYPES[t](value) for t in types):
            out.append(f"{where}: expected {' or '.join(types)}, found {_kind(value)}")
            return
    if "const" in schema and value != schema["const"]:
        out.append(f"{where}: expected {schema['const']!r}, found {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} is not one of {schema['enum']!r}")
    if "minimum" in schema and TYPES["number"](value) and value < schema["minimum"]:
        out.append(f"{where}: {value!r} is below the minimum {schema['minimum']!r}")
    if isinstance(value, dict):
        missing = [k for k in schema.get("required", []) if k not in value]
        if missing:
            out.append(f"{where}: missing {', '.join(missing)}")
        props = schema.get("properties", {})
        for key, sub in props.items():
            if key in value:
                _validate(value[key], sub, root, f"{path}/{key}", out)
        extra = schema.get("additionalProperties", True)
        for key in value:
            if key not in props and extra is not True:
                _validate(value[key], extra, root, f"{path}/{key}", out)
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            out.append(f"{where}: {len(value)} item(s), expected at least {schema['minItems']}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append(f"{where}: {len(value)} item(s), expected at most {schema['maxItems']}")
        if "items" in schema:
            for i, item in enumerate(value):
                _validate(item, schema["items"], root, f"{path}/{i}", out)


def errors_at(value, schema, root: dict, path: str) -> list[str]:
    out: list[str] = []
    _validate(value, schema, root, path, out)
    return out


def _kind(value) -> str:
    for name, test in TYPES.items():
        if name != "integer" and test(value):
            return name
    return type(value).__name__
