"""What a Flux query in a dashboard or alert rule names, and whether the gateway writes it.

Flux cannot run here (VictoriaMetrics takes InfluxDB's writes, not its queries), so the
dashboards are checked by reading their queries: every measurement, field and tag a
query names must be one `gateway.influx_export.MEASUREMENTS` declares. This is a
reader for the way the shelfsense dashboards write Flux, not a Flux parser:

- measurements and fields are chosen only with `r._measurement == "name"` and
  `r._field == "name"` (a regular expression or `!=` there cannot be checked, so it is
  reported as a problem);
- any other column the query reads, `r.name` / `r["name"]`, a `columns: [...]` list,
  `column:`, `rowKey:`/`columnKey:` or `schema.tagValues(tag: ...)`, must be a tag or
  field of a measurement the query names, unless the query makes that column itself
  (`stateDuration(column: "x")`, `map(fn: (r) => ({r with x: ...}))`, `as: "x"`);
- names that start with `_` are Flux's own columns (`_time`, `_value`, ...);
- `${name}` and `$name` are Grafana variables, which the dashboard must define.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gateway.export.influx import STATUS_CODES, Measurement

_RECORD = r'\br(?:\.(?P<dot>\w+)|\["(?P<key>[^"]+)"\])'
_LITERAL = r'(?P<literal>"(?:[^"\\]|\\.)*"|/(?:[^/\\\n]|\\.)*/)'
COMPARISON = re.compile(_RECORD + r"\s*(?P<op>==|!=|=~|!~)\s*" + _LITERAL)
RECORD_ACCESS = re.compile(_RECORD)
COLUMN_LIST = re.compile(r"\b(?:columns|rowKey|columnKey)\s*:\s*\[(?P<names>[^\]]*)\]")
COLUMN_ARG = re.compile(r'\b(?:column|tag|valueColumn)\s*:\s*"(?P<name>[^"]+)"')
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
MADE_BY_STATE = re.compile(
    r'\bstate(?:Duration|Count)\((?:[^()]|\([^()]*\))*?\bcolumn\s*:\s*"(?P<name>[^"]+)"'
)
MADE_BY_MAP = re.compile(r"\{\s*r\s+with\s+(?P<names>[^}]*)\}")
MADE_BY_AS = re.compile(r'\bas\s*:\s*"(?P<name>[^"]+)"')
MAP_FIELD = re.compile(r"(?:^|,)\s*(\w+)\s*:")
VARIABLE = re.compile(r"\$\{(?P<braced>\w+)(?::[\w]+)?\}|\$(?P<bare>[A-Za-z_]\w*)")


@dataclass
class FluxNames:
    """The names one query uses; `problems` are constructs this reader cannot check."""

    measurements: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)
    columns: set[str] = field(default_factory=set)
    made: set[str] = field(default_factory=set)
    compared: set[tuple[str, str]] = field(default_factory=set)
    variables: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def names_in(query: str) -> FluxNames:
    """Read the measurements, fields, columns and variables a Flux query names."""
    found = FluxNames()
    for match in COMPARISON.finditer(query):
        column = match["dot"] or match["key"]
        op, literal = match["op"], match["literal"]
        value = literal[1:-1]
        if column in ("_measurement", "_field"):
            if op != "==" or literal.startswith("/"):
                found.problems.append(f'{column} {op} {literal}: only == "name" can be checked')
            elif column == "_measurement":
                found.measurements.add(value)
            else:
                found.fields.add(value)
        elif not literal.startswith("/"):
            found.compared.add((column, value))
    for match in RECORD_ACCESS.finditer(query):
        found.columns.add(match["dot"] or match["key"])
    for match in COLUMN_LIST.finditer(query):
        found.columns.update(STRING.findall(match["names"]))
    for match in COLUMN_ARG.finditer(query):
        found.columns.add(match["name"])
    found.made = made_columns(query)
    found.columns = {c for c in found.columns if not c.startswith("_")}
    for match in VARIABLE.finditer(query):
        found.variables.add(match["braced"] or match["bare"])
    return found


def made_columns(query: str) -> set[str]:
    """Columns the query creates itself, so reading them later names nothing stored."""
    made = {m["name"] for m in MADE_BY_STATE.finditer(query)}
    made |= {m["name"] for m in MADE_BY_AS.finditer(query)}
    for match in MADE_BY_MAP.finditer(query):
        made |= set(MAP_FIELD.findall(match["names"]))
    return made


def unknown_names(query: str, declared: Mapping[str, Measurement]) -> list[str]:
    """What in `query` the gateway does not write (empty: every name is declared)."""
    found = names_in(query)
    errors = list(found.problems)
    if not found.measurements:
        errors.append('names no measurement (filter on r._measurement == "...")')
    known = [declared[m] for m in sorted(found.measurements) if m in declared]
    errors += [f"unknown measurement {m!r}" for m in sorted(found.measurements - set(declared))]
    fields = _union(m.fields for m in known)
    tags = _union(m.tags for m in known)
    names = " or ".join(m.name for m in known) or "no known measurement"
    errors += [f"field {f!r} is not written in {names}" for f in sorted(found.fields - fields)]
    for column in sorted(found.columns - found.made - tags - fields):
        errors.append(f"tag {column!r} is not written in {names}")
    for column, value in sorted(found.compared):
        if column == "status" and value not in STATUS_CODES:
            errors.append(f"status {value!r} is not a slot status ({', '.join(STATUS_CODES)})")
    return errors


def _union(groups: Iterable[tuple[str, ...]]) -> set[str]:
    return {name for group in groups for name in group}
