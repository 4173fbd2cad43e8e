"""Frozen, validated configs with YAML in/out and one-line errors naming file, field and allowed range."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from .errors import SuperposeError

C = TypeVar("C", bound="FrozenConfig")


class FrozenConfig(BaseModel):
    """Base of every config: immutable, unknown keys rejected, every field described."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        """`n_features: true` is a slip, not 1 (pydantic's lax mode would take it as 1)."""
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, bool) for v in values) and not _admits_bool(
            cls.model_fields[info.field_name].annotation
        ):
            raise ValueError("true/false is not allowed here (a number or name is)")
        return value

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def config_hash(self) -> str:
        """Stable short hash of the whole config (used to name and deduplicate runs)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def replace(self: C, **changes: Any) -> C:
        """A validated copy with some fields changed (dotted keys reach into nested configs)."""
        data = self.to_dict()
        for key, value in changes.items():
            set_dotted(data, key, value)
        return validate(type(self), data, source="<replace>")


def _admits_bool(annotation: Any) -> bool:
    """Whether a field's type takes true/false (bool or Any somewhere in it; not Literal[1])."""
    if annotation is bool or annotation is Any:
        return True
    return any(
        _admits_bool(a)
        for a in get_args(annotation)
        if a is bool or not isinstance(a, int | float | str)
    )


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set `a.b.c` in a nested dict, refusing keys that do not exist."""
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            raise SuperposeError(f"unknown config field {key!r}")
        node = node[part]
    if parts[-1] not in node:
        raise SuperposeError(f"unknown config field {key!r}")
    node[parts[-1]] = value


def describe_validation_error(err: ValidationError, source: str) -> str:
    """First error of a pydantic ValidationError as `source: field 'a.b': reason (got X)`."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-")) or "<root>"
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown field (not allowed here)"
    got = first.get("input")
    quiet = isinstance(got, dict) or first["type"] == "missing" or "got " in msg
    got_text = "" if quiet else f" (got {got!r:.60})"
    return f"{source}: field '{loc}': {msg}{got_text}".replace("\n", "\\n")


def validate(cls: type[C], data: Any, source: str) -> C:
    """Build `cls` from plain data, turning validation errors into one-line SuperposeErrors."""
    if not isinstance(data, dict):
        raise SuperposeError(f"{source}: expected a mapping of fields, got {type(data).__name__}")
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise SuperposeError(describe_validation_error(err, source)) from None


def load_yaml(cls: type[C], path: str | Path) -> C:
    """Read and validate a YAML config file."""
    return validate(cls, read_yaml(path), source=str(path))


def read_yaml(path: str | Path) -> Any:
    """The plain data of a YAML file; unreadable or invalid files → one-line SuperposeError."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise SuperposeError(f"{path}: cannot read config ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise SuperposeError(f"{path}: not a text file (config must be UTF-8 YAML)") from None
    try:
        data = yaml.load(text, Loader=_ConfigLoader)
    except _DuplicateKey as err:
        raise SuperposeError(f"{path}: {err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SuperposeError(f"{path}: not valid YAML{where}") from None
    except RecursionError:
        raise SuperposeError(f"{path}: nested too deeply to be a config") from None
    if _expanded_size(data, MAX_VALUES) > MAX_VALUES:
        raise SuperposeError(
            f"{path}: its aliases (*name) expand to over {MAX_VALUES:,} values; "
            "too large to be a config"
        )
    return data


MAX_VALUES = 1_000_000  # a config's values once aliases are expanded (an alias bomb is refused)


class _DuplicateKey(yaml.YAMLError):
    pass


class _ConfigLoader(yaml.SafeLoader):
    """yaml.safe_load that refuses a key given twice in one mapping (YAML keeps the last silently,
    so a second `circuits:` would quietly replace the first); `<<` merges may still override."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key, line = self.construct_object(key_node, deep=True), key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise _DuplicateKey(
                        f"field {key!r} given twice (lines {seen[key]} and {line}); keep one"
                    )
                seen[key] = line
            except TypeError:  # an unhashable key: the base class says so
                continue
        return super().construct_mapping(node, deep=deep)


def _expanded_size(data: Any, limit: int) -> int:
    """How many values `data` holds with shared (aliased) parts counted each time; stops past
    `limit`, so a few lines of nested aliases never take long to count."""
    count, stack = 0, [data]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def unless_dump(path: str | Path, config: FrozenConfig) -> list[Path]:
    """[path], unless its text is already what `dump_yaml(config)` writes (a previous save's
    config.yaml, which a new save may replace: nothing of the user's is lost)."""
    try:
        same = Path(path).read_text() == yaml.safe_dump(config.to_dict(), sort_keys=False)
    except (OSError, UnicodeDecodeError):
        same = False
    return [] if same else [Path(path)]


def dump_yaml(config: FrozenConfig, path: str | Path) -> None:
    from .files import atomic_write

    atomic_write(path, yaml.safe_dump(config.to_dict(), sort_keys=False))
