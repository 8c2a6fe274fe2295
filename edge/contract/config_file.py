"""Strict YAML configuration files, shared by the node and the gateway.

As in Frigate: the file is validated by pydantic models with `extra="forbid"`, so a typo is
an error that names the key and the file; `${VAR}` in a string value is read from the
environment, so secrets stay out of the file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(ValueError):
    """A configuration file the program cannot use; the message says where and why."""


def key_name(key: object) -> str:
    """A key as a message shows it: quoted when empty or unprintable (a stray tab or line
    break in a key must not break the one-line-per-problem error)."""
    text = str(key)
    return text if text and text.isprintable() else repr(text)


def _substitute_env(value: Any, path: str, source: str) -> Any:
    if isinstance(value, dict):
        return {
            k: _substitute_env(v, f"{path}.{key_name(k)}" if path else key_name(k), source)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_substitute_env(v, f"{path}[{i}]", source) for i, v in enumerate(value)]
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(f"{source}: {path}: environment variable {name} is not set")
            return os.environ[name]

        return _ENV_REF.sub(replace, value)
    return value


def format_validation_error(error: ValidationError, source: str) -> str:
    """One line per problem, each naming the dotted key path."""
    lines = []
    for item in error.errors():
        where = ".".join(key_name(p) for p in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"{source}: {where}: unknown key")
        else:
            lines.append(f"{source}: {where}: {item['msg']}")
    return "\n".join(lines)


def parse_config(data: Any, model: type[ModelT], source: str = "<config>") -> ModelT:
    """Validate an already-parsed mapping; raise ConfigError naming each bad key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys at the top level")
    try:
        data = _substitute_env(data, "", source)
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(format_validation_error(error, source)) from None
    except RecursionError:
        raise ConfigError(
            f"{source}: a value contains itself (a YAML alias loop) or is nested too deeply"
        ) from None


def load_config(path: str | Path, model: type[ModelT]) -> ModelT:
    """Read a YAML file into `model`; ConfigError names the file, line or key at fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raw = path.read_bytes()
        line = raw.count(b"\n", 0, error.start) + 1
        raise ConfigError(f"{path}: line {line}: not UTF-8 text (byte {error.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.reader.ReaderError as error:  # a control character; it has a position only
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        raise ConfigError(
            f"{path}: line {line}, column {column}: character {error.character!r} is not "
            "allowed in YAML"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "parse error"
        problem = " ".join(str(getattr(error, "problem", None) or error).split())
        raise ConfigError(f"{path}: {where}: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{path}: parse error: nested too deeply") from None
    return parse_config(data, model, str(path))
