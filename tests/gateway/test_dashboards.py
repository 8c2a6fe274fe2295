"""The Grafana dashboards and provisioning files in dashboards/: they load, they fit
together (data source, variables, panel grid, alert rules), and every measurement, field
and tag they query is one the gateway writes (`tests.support.flux_queries` reads the queries;
a real VictoriaMetrics shows the exporter writes each of them)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge.layout import with_check_digit
from gateway.advice.worker import advice_points
from gateway.config.settings import InfluxSettings
from gateway.export.influx import MEASUREMENTS, STATUS_CODES, InfluxExporter
from gateway.retail.pos import SaleLine
from tests.support.flux_queries import names_in, unknown_names
from tests.support.gateway_store import STORE, availability, health, shelf_state
from tests.support.paths import REPO
from tests.support.services import VictoriaMetrics

DASHBOARDS = REPO / "dashboards"
PROVISIONING = DASHBOARDS / "provisioning"
EXPECTED = {"store-overview.json", "device-health.json"}
GRID_COLUMNS = 24
OLDEST_SCHEMA_VERSION = 39  # Grafana 10.4; the dashboards are written for Grafana 12+
GRAFANA_DATASOURCE = "-- Grafana --"  # the built-in one behind "Annotations & Alerts"
EXPRESSION = "__expr__"  # alert-rule math (reduce, threshold)
ENV_REFERENCE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
FIELD_LABEL = re.compile(r"__field\.labels\.(\w+)")


def load_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        pytest.fail(f"{path.name}:{error.lineno}:{error.colno}: {error.msg}")


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        pytest.fail(f"{path.relative_to(DASHBOARDS)}: {error}")


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: load_json(p) for p in sorted(DASHBOARDS.glob("*.json"))}


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside collapsed rows included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def variables(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return dashboard.get("templating", {}).get("list", [])


def variable_query(variable: dict[str, Any]) -> str:
    """A query variable's Flux: a string, or {"query": ...} as newer Grafana saves it."""
    query = variable.get("query", "")
    return query.get("query", "") if isinstance(query, dict) else query


def dashboard_queries(name: str, dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, Flux) for every panel target and query variable of one dashboard."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield (
                f"{name} panel {panel['id']} {panel['title']!r} {target['refId']}",
                target["query"],
            )
    for variable in variables(dashboard):
        if variable.get("type") == "query":
            yield f"{name} variable {variable['name']!r}", variable_query(variable)


def alert_rules() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted((PROVISIONING / "alerting").glob("*.yaml")):
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                yield f"{path.name} rule {rule['uid']!r}", rule


def alert_queries() -> Iterator[tuple[str, str]]:
    for where, rule in alert_rules():
        for query in rule["data"]:
            if query["datasourceUid"] != EXPRESSION:
                yield f"{where} {query['refId']}", query["model"]["query"]


def all_queries() -> list[tuple[str, str]]:
    found = [q for name, d in dashboards().items() for q in dashboard_queries(name, d)]
    return found + list(alert_queries())


def provisioned_datasource() -> dict[str, Any]:
    [datasource] = load_yaml(PROVISIONING / "datasources" / "shelfsense.yaml")["datasources"]
    return datasource


# ---- the files ------------------------------------------------------------------------


def test_the_dashboards_are_there_and_each_has_its_own_uid_and_title() -> None:
    found = dashboards()
    assert set(found) >= EXPECTED
    uids = [d["uid"] for d in found.values()]
    titles = [d["title"] for d in found.values()]
    assert len(set(uids)) == len(uids) and len(set(titles)) == len(titles)
    assert all(re.fullmatch(r"[a-z0-9-]{1,40}", uid) for uid in uids)  # Grafana's uid limit


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_dashboard_has_panels_with_unique_ids_on_a_valid_grid(name: str) -> None:
    dashboard = load_json(DASHBOARDS / name)
    assert dashboard["title"] and dashboard["uid"]
    assert dashboard["schemaVersion"] >= OLDEST_SCHEMA_VERSION
    assert dashboard.get("id") is None  # Grafana assigns ids; a fixed one clashes
    found = list(panels(dashboard))
    assert [p for p in found if p["type"] != "row"], f"{name}: no panels"
    ids = [p["id"] for p in found]
    assert len(set(ids)) == len(ids), f"{name}: duplicate panel ids"
    boxes = []
    for panel in found:
        grid = panel["gridPos"]
        x, y, w, h = (grid[k] for k in ("x", "y", "w", "h"))
        assert all(isinstance(v, int) for v in (x, y, w, h)), panel["title"]
        assert x >= 0 and y >= 0 and w >= 1 and h >= 1, panel["title"]
        assert x + w <= GRID_COLUMNS, f"{panel['title']!r} is wider than the grid"
        assert panel["title"], f"panel {panel['id']} has no title"
        boxes.append((panel["title"], x, y, w, h))
    for i, (title_a, xa, ya, wa, ha) in enumerate(boxes):
        for title_b, xb, yb, wb, hb in boxes[i + 1 :]:
            overlap = xa < xb + wb and xb < xa + wa and ya < yb + hb and yb < ya + ha
            assert not overlap, f"{name}: {title_a!r} overlaps {title_b!r}"


def test_every_datasource_reference_is_the_provisioned_one() -> None:
    uid = provisioned_datasource()["uid"]
    for name, dashboard in dashboards().items():
        references = [(f"variable {v['name']}", v.get("datasource")) for v in variables(dashboard)]
        for panel in panels(dashboard):
            references.append((f"panel {panel['title']!r}", panel.get("datasource")))
            references += [
                (f"panel {panel['title']!r}", t["datasource"]) for t in panel.get("targets", [])
            ]
        for where, ref in references:
            if ref is not None:  # a row has none
                assert ref == {"type": "influxdb", "uid": uid}, f"{name} {where}: {ref}"
        for annotation in dashboard["annotations"]["list"]:
            assert annotation["datasource"]["uid"] in (uid, GRAFANA_DATASOURCE), name
    for where, rule in alert_rules():
        for query in rule["data"]:
            assert query["datasourceUid"] in (uid, EXPRESSION), where


def test_every_variable_a_query_uses_is_defined() -> None:
    for name, dashboard in dashboards().items():
        defined = {v["name"] for v in variables(dashboard)}
        assert {"store", "camera"} <= defined, name
        for where, query in dashboard_queries(name, dashboard):
            missing = names_in(query).variables - defined
            assert not missing, f"{where} uses undefined variable(s) {sorted(missing)}"
    for where, query in alert_queries():  # alert rules run without a dashboard
        assert not names_in(query).variables, f"{where} uses a dashboard variable"


def test_every_query_reads_the_bucket_the_datasource_names() -> None:
    """The bucket is configured once (INFLUX_BUCKET); a bucket written into a query would
    silently show nothing in a store whose bucket has another name."""
    for where, query in all_queries():
        assert "bucket: v.defaultBucket" in query, where
        assert not re.search(r'bucket\s*:\s*"', query), f"{where} names a bucket"


def test_the_store_and_camera_variables_list_tag_values() -> None:
    for name, dashboard in dashboards().items():
        by_name = {v["name"]: v for v in variables(dashboard)}
        for tag in ("store", "camera"):
            query = variable_query(by_name[tag])
            assert "schema.tagValues(" in query and f'tag: "{tag}"' in query, f"{name} {tag}"
        assert "${store}" in variable_query(by_name["camera"]), f"{name}: cameras of one store"


# ---- the key check: every name queried is one the gateway writes -----------------------


def test_every_query_names_only_measurements_fields_and_tags_the_gateway_writes() -> None:
    queries = all_queries()
    assert len(queries) >= 20  # both dashboards and the alert rules were read
    problems = [f"{where}: {p}" for where, q in queries for p in unknown_names(q, MEASUREMENTS)]
    assert problems == []


def test_display_names_use_only_labels_the_panel_queries_have() -> None:
    """`${__field.labels.camera}` names a series by a tag: the panel's measurement must
    have that tag, or every series would show the same literal name."""
    for name, dashboard in dashboards().items():
        for panel in panels(dashboard):
            used = set(FIELD_LABEL.findall(json.dumps(panel.get("fieldConfig", {}))))
            tags = {
                tag
                for target in panel.get("targets", [])
                for measurement in names_in(target["query"]).measurements
                for tag in MEASUREMENTS[measurement].tags
            }
            assert used <= tags, f"{name} panel {panel['title']!r}: {sorted(used - tags)}"


def test_the_dashboards_cover_scores_gaps_advice_sales_and_device_health() -> None:
    used: dict[str, set[str]] = {}
    for _, query in all_queries():
        found = names_in(query)
        for measurement in found.measurements:
            used.setdefault(measurement, set()).update(found.fields)
    assert set(used) == set(MEASUREMENTS)
    assert used["camera_health"] >= {
        "online",
        "inference_ms",
        "fps",
        "cpu_temp_c",
        "frames_failed",
        "outbox_pending",
    }
    assert {"score"} <= used["display_score"] and {"status_code"} <= used["slot_state"]
    assert {"open"} <= used["advice"] and {"quantity", "revenue"} <= used["sales"]


GOOD = """from(bucket: v.defaultBucket)
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "camera_health" and r._field == "cpu_temp_c")
  |> filter(fn: (r) => r.store == "${store}" and r.camera =~ /^${camera:regex}$/)
  |> group(columns: ["camera"])"""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (GOOD, []),
        (
            GOOD.replace('"cpu_temp_c"', '"temperature"'),
            ["field 'temperature' is not written in camera_health"],
        ),
        (
            GOOD.replace('"camera_health"', '"camera_stats"'),
            [
                "unknown measurement 'camera_stats'",
                "field 'cpu_temp_c' is not written in no known measurement",
                "tag 'camera' is not written in no known measurement",
                "tag 'store' is not written in no known measurement",
            ],
        ),
        (
            GOOD.replace('columns: ["camera"]', 'columns: ["camera", "shelf"]'),
            ["tag 'shelf' is not written in camera_health"],
        ),
        (
            GOOD.replace('r._field == "cpu_temp_c"', 'r["_field"] =~ /cpu.*/'),
            ['_field =~ /cpu.*/: only == "name" can be checked'],
        ),
        (
            GOOD.replace("r.camera =~", 'r["node"] =~'),
            ["tag 'node' is not written in camera_health"],
        ),
        (
            'import "influxdata/influxdb/schema"\n'
            'schema.tagValues(bucket: v.defaultBucket, tag: "aisle")',
            [
                'names no measurement (filter on r._measurement == "...")',
                "tag 'aisle' is not written in no known measurement",
            ],
        ),
        (
            GOOD.replace("camera_health", "slot_state").replace("cpu_temp_c", "status_code")
            + '\n  |> filter(fn: (r) => r.status == "missing")',
            [
                "status 'missing' is not a slot status (stocked, low, empty, wrong_product, "
                "messy, occluded, unknown)"
            ],
        ),
        (
            GOOD + '\n  |> stateCount(fn: (r) => r._value > 80.0, column: "hot")'
            "\n  |> map(fn: (r) => ({r with hot_now: r.hot > 0}))"
            '\n  |> keep(columns: ["camera", "hot", "hot_now"])',
            [],
        ),
    ],
    ids=[
        "good",
        "unknown-field",
        "unknown-measurement",
        "unknown-group-column",
        "regex-field",
        "unknown-tag-by-key",
        "no-measurement",
        "unknown-status",
        "columns-made-by-the-query",
    ],
)
def test_the_name_check_reports_what_the_gateway_does_not_write(
    query: str, expected: list[str]
) -> None:
    assert unknown_names(query, MEASUREMENTS) == expected


def test_state_colours_map_every_slot_status_code() -> None:
    overview = load_json(DASHBOARDS / "store-overview.json")
    [timeline] = [p for p in panels(overview) if p["title"] == "Slot states"]
    [mapping] = timeline["fieldConfig"]["defaults"]["mappings"]
    assert {o["text"]: int(code) for code, o in mapping["options"].items()} == {
        str(status): code for status, code in STATUS_CODES.items()
    }
    assert mapping["options"][str(STATUS_CODES["empty"])]["color"] == "red"
    devices = load_json(DASHBOARDS / "device-health.json")
    [status] = [p for p in panels(devices) if p["title"] == "Camera status"]
    [online] = status["fieldConfig"]["defaults"]["mappings"]
    assert {o["text"]: o["color"] for o in online["options"].values()} == {
        "ONLINE": "green",
        "OFFLINE": "red",
    }


# ---- provisioning -----------------------------------------------------------------------


def test_the_datasource_is_influxdb_2_with_flux_configured_from_the_environment() -> None:
    datasource = provisioned_datasource()
    assert datasource["type"] == "influxdb" and datasource["access"] == "proxy"
    assert datasource["url"] == "${INFLUX_URL}"
    assert datasource["jsonData"]["version"] == "Flux"
    assert datasource["jsonData"]["organization"] == "${INFLUX_ORG}"
    assert datasource["jsonData"]["defaultBucket"] == "${INFLUX_BUCKET}"
    assert datasource["secureJsonData"] == {"token": "${INFLUX_TOKEN}"}


def test_the_dashboard_provider_points_at_the_dashboards_folder() -> None:
    [provider] = load_yaml(PROVISIONING / "dashboards" / "shelfsense.yaml")["providers"]
    assert provider["type"] == "file"
    path = expand(provider["options"]["path"], {"SHELFSENSE_DASHBOARDS": str(DASHBOARDS)})
    assert Path(path).resolve() == DASHBOARDS
    assert {p.name for p in Path(path).rglob("*.json")} == set(dashboards())
    # One folder holds dashboards and alert rules; both find it by its title.
    alerting = load_yaml(PROVISIONING / "alerting" / "shelfsense.yaml")["groups"]
    assert {group["folder"] for group in alerting} == {provider["folder"]}


def test_every_environment_variable_the_provisioning_reads_is_documented() -> None:
    readme = (DASHBOARDS / "README.md").read_text()
    used = set()
    for path in PROVISIONING.rglob("*.yaml"):
        load_yaml(path)
        for line in path.read_text().splitlines():
            if not line.lstrip().startswith("#") and "{{" not in line:  # {{ $labels }}: Grafana's
                used |= {a or b for a, b in ENV_REFERENCE.findall(line)}
    assert used >= {"INFLUX_URL", "INFLUX_ORG", "INFLUX_BUCKET", "INFLUX_TOKEN"}
    assert all(f"{name}=" in readme for name in used), sorted(used)


def test_alert_rules_are_complete_and_point_at_existing_panels() -> None:
    panel_ids = {d["uid"]: {p["id"] for p in panels(d)} for d in dashboards().values()}
    titles = set()
    for where, rule in alert_rules():
        refs = [q["refId"] for q in rule["data"]]
        assert len(set(refs)) == len(refs) and rule["condition"] in refs, where
        for query in rule["data"]:
            if query["datasourceUid"] == EXPRESSION:
                assert query["model"]["expression"] in refs, where
        assert re.fullmatch(r"\d+[smh]", rule["for"]), where
        assert rule["panelId"] in panel_ids[rule["dashboardUid"]], where
        assert rule["noDataState"] in ("NoData", "Alerting", "OK", "KeepLast"), where
        assert rule["execErrState"] in ("Error", "Alerting", "OK", "KeepLast"), where
        titles.add(rule["title"])
    assert titles == {"Camera offline", "Camera node CPU too hot"}


def expand(text: str, env: dict[str, str]) -> str:
    """Grafana's $NAME / ${NAME} substitution in provisioning files."""
    return ENV_REFERENCE.sub(lambda m: env[m[1] or m[2]], text)


# ---- against a real server: the exporter writes every name the dashboards read ---------


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    server = VictoriaMetrics(tmp_path / "vm")
    server.start()
    yield server
    server.stop()


def test_the_exporter_writes_every_field_and_tag_the_dashboards_query(
    victoria: VictoriaMetrics,
) -> None:
    """One point of every measurement goes through the real exporter; VictoriaMetrics
    names each series `measurement_field` and keeps the tags as labels."""
    now = datetime.now(UTC)
    sale = SaleLine(
        id="DASH-1",
        time=now - timedelta(minutes=5),
        store=STORE,
        sku=with_check_digit("400638133393"),
        quantity=2,
        unit_price="1.25",
        currency="EUR",
    )
    exporter = InfluxExporter(
        InfluxSettings(url=victoria.url, org="shop", bucket="shelfsense", flush_interval_s=0.1)
    )
    exporter.start()
    try:
        exporter.export_stored([(availability("online"), now), (health(), now)])
        exporter.export_stored([(shelf_state(), now)])
        exporter.export_sales([sale])
        exporter.export_many(advice_points(STORE, {"restock": {"open": 1, "acknowledged": 0}}, now))
        assert exporter.flush(30), exporter.last_error
    finally:
        exporter.stop()

    needed: dict[str, set[str]] = {}  # series name -> labels the dashboards read
    for _, query in all_queries():
        found = names_in(query)
        for measurement in found.measurements:
            tags = found.columns & set(MEASUREMENTS[measurement].tags)
            for field in found.fields or MEASUREMENTS[measurement].fields[:1]:
                needed.setdefault(f"{measurement}_{field}", set()).update(tags)

    stored: dict[str, set[str]] = {}
    deadline = time.monotonic() + 30  # points are searchable about a second after writing
    while not set(needed) <= set(stored) and time.monotonic() < deadline:
        time.sleep(0.2)
        series = victoria.series('{__name__=~"(' + "|".join(MEASUREMENTS) + ')_.+"}')
        stored = {s["metric"]["__name__"]: set(s["metric"]) for s in series}
    assert set(needed) <= set(stored), f"not written: {sorted(set(needed) - set(stored))}"
    for name, tags in needed.items():
        assert tags <= stored[name], f"{name} lacks the labels {sorted(tags - stored[name])}"
