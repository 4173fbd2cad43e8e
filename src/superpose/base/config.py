"""Frozen, validated configs with YAML in/out and one-line errors naming file, field and allowed range."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import SuperposeError

C = TypeVar("C", bound="FrozenConfig")


class FrozenConfig(BaseModel):
    """Base of every config: immutable, unknown keys rejected, every field described."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )

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
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SuperposeError(f"{path}: not valid YAML{where}") from None
    except RecursionError:
        raise SuperposeError(f"{path}: nested too deeply to be a config") from None
    return data


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
