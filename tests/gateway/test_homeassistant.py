"""Home Assistant MQTT discovery through the real Gateway and a real Mosquitto: the
payloads are checked against Home Assistant's discovery schema, and a client subscribing
to `homeassistant/#` as Home Assistant does follows the announced topics to the values;
a deleted camera's entities disappear."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.contract.config_file import ConfigError
from edge.contract.messages import SlotStatus
from gateway.app import Gateway
from gateway.config.homeassistant import HomeAssistantSettings
from gateway.config.settings import load_settings
from gateway.homeassistant.bridge import HomeAssistantBridge
from gateway.homeassistant.discovery import Discovery
from gateway.storage.connection import Database
from tests.gateway.test_advice_mqtt import with_history
from tests.support.gateway_store import (
    STORE,
    TOPICS,
    MqttClient,
    availability,
    health,
    running_gateway,
    sample_layout,
    settings_for,
    shelf_state,
    wait_until,
)
from tests.support.homeassistant import Entity, HomeAssistantClient, check_config
from tests.support.services import Mosquitto

CAMERA = TOPICS.camera
NODE = "shelfsense_store-1_cam-1"


def test_every_config_follows_the_discovery_schema() -> None:
    discovery = Discovery(HomeAssistantSettings(), "shelfsense", "1.2.3")
    configs = discovery.camera_configs("store-1", "cam.left", "0.9") | discovery.gateway_configs()
    assert len(configs) == 5
    unique_ids = set()
    for topic, payload in configs.items():
        config = json.loads(payload)
        assert check_config(topic, config) == [], config
        unique_ids.add(config["unique_id"])
        node_id, object_id = topic.split("/")[2:4]
        assert config["object_id"] == f"{node_id}_{object_id}"  # entity ids unique too
        assert config["default_entity_id"].split(".")[1] == config["object_id"]
    assert len(unique_ids) == 5
    sensor = json.loads(
        configs["homeassistant/sensor/shelfsense_store-1_cam_left/open_advice/config"]
    )
    assert sensor["device"]["via_device"] == "shelfsense_gateway"
    assert sensor["device"]["sw_version"] == "0.9" and sensor["origin"]["sw_version"] == "1.2.3"
    assert [a["topic"] for a in sensor["availability"]] == [
        "shelfsense/store-1/cam.left/availability",
        "shelfsense/_gateway/availability",
    ]
    assert sensor["state_topic"] == "shelfsense/_gateway/summary/store-1/cam.left"


def test_a_change_marked_after_a_removal_does_not_keep_the_entities(tmp_path: Path) -> None:
    """The advice engine may mark a deleted camera as changed before the bridge publishes
    its removal: the camera's configs are cleared all the same."""
    db = Database.in_dir(tmp_path / "data")
    db.open()
    sent: dict[str, bytes] = {}
    bridge = HomeAssistantBridge(
        db,
        HomeAssistantSettings(),
        prefix="shelfsense",
        sw_version="1.2.3",
        publish=lambda topic, payload: sent.__setitem__(topic, payload) is None,
        connection_epoch=lambda: 1,
    )
    now = datetime.now(UTC)
    with db.transaction() as tx:
        tx.touch_camera(STORE, CAMERA, now)
        tx.record_state(shelf_state(1, ts=now), now)
    bridge.changed(STORE, CAMERA)  # as ingest does for a stored state
    assert bridge.publish_pending()
    announced = [t for t in sent if NODE in t]
    assert len(announced) == 4 and all(sent[t] for t in announced)
    with db.transaction() as tx:
        tx.delete_camera(STORE, CAMERA)
    bridge.camera_removed(STORE, CAMERA)
    bridge.changed(STORE, CAMERA)  # late: after the removal, before the thread's turn
    assert bridge.publish_pending()
    assert [t for t in announced if sent[t]] == []  # every camera config emptied
    db.close()


def test_the_checker_catches_what_home_assistant_rejects() -> None:
    """The schema check above is only worth something if it fails on bad configs."""
    topic = "homeassistant/sensor/n/o/config"
    assert "missing state_topic" in check_config(topic, {"unique_id": "o"})[0]
    assert check_config(topic, {"state_topic": "t", "stat_topic": "t"}) == [
        f"{topic}: unknown key stat_topic"
    ]
    assert check_config(topic, {"state_topic": "t", "unique_id": "o", "device": {"name": "x"}})
    assert check_config("homeassistant/sensor/o/config/x", {"state_topic": "t"})


def test_a_typo_in_the_section_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text("homeassistant:\n  discovery_prefx: ha\n")
    with pytest.raises(ConfigError, match="discovery_prefx"):
        load_settings(path)
    path.write_text("homeassistant: {}\n")
    assert load_settings(path).homeassistant == HomeAssistantSettings()


@pytest.fixture
def gateway(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Gateway]:
    settings = settings_for(
        mosquitto.url,
        tmp_path / "data",
        advice={"interval_s": 1.0, "debounce_s": 0.1, "restock_grace_min": 0},
        homeassistant={},
    )
    with running_gateway(settings) as gw:
        gw.set_layout(STORE, CAMERA, sample_layout())
        yield gw


def test_home_assistant_discovers_the_camera_and_reads_its_values(
    gateway: Gateway, mosquitto: Mosquitto
) -> None:
    api, now = with_history(gateway)
    node = MqttClient(mosquitto.url, "node-like")
    ha = HomeAssistantClient(mosquitto.url)
    try:
        node.publish(TOPICS.availability, availability("online"), retain=True)
        node.publish(TOPICS.health, health().model_copy(update={"software": "0.7.1"}))
        stocked, empty = SlotStatus.STOCKED, SlotStatus.EMPTY
        node.publish(TOPICS.state, shelf_state(1, (stocked, empty), ts=now - timedelta(minutes=30)))

        entities = wait_until(
            lambda: e if len(e := ha.entities()) == 5 else None, 20, "five discovered entities"
        )
        for entity in entities.values():
            assert check_config(entity.topic, entity.config) == []
        ha.follow()
        score = entities[f"{NODE}_compliance_score"]
        empty_slots = entities[f"{NODE}_empty_slots"]
        advice = entities[f"{NODE}_open_advice"]
        online = entities[f"{NODE}_online"]
        assert wait_until(lambda: ha.state(score) == "50.0", 20, "the compliance score")
        assert ha.state(empty_slots) == "1" and ha.state(online) == "on"
        assert wait_until(
            lambda: (
                entities_named(ha, f"{NODE}_compliance_score").config["device"]["sw_version"]
                == "0.7.1"
            ),
            10,
            "the node's software version on the device",
        )
        opened = wait_until(
            lambda: api.get("/api/advice", params={"store": STORE, "status": "open"}).json(),
            20,
            "open advice",
        )
        wait_until(lambda: ha.state(advice) == str(len(opened)), 20, "the open advice count")
        assert ha.state(entities["shelfsense_gateway_online"]) == "on"

        node.publish(TOPICS.availability, availability("offline"), retain=True)
        wait_until(lambda: ha.state(online) == "off", 10, "the camera offline")
        assert ha.state(score) == "unavailable"  # a figure from a camera that left is stale

        assert api.delete(f"/api/cameras/{STORE}/{CAMERA}").status_code == 200
        wait_until(lambda: len(ha.entities()) == 1, 10, "the camera's entities removed")
        late = HomeAssistantClient(mosquitto.url)  # a Home Assistant started afterwards
        try:
            late.mqtt.subscribe("shelfsense/_gateway/#")
            wait_until(lambda: late.entities(), 10, "the gateway's retained config")
            assert list(late.entities()) == ["shelfsense_gateway_online"]
            assert not any(
                m.topic.startswith("shelfsense/_gateway/summary") for m in late.mqtt.messages
            )
        finally:
            late.close()
    finally:
        ha.close()
        node.close()


def entities_named(ha: HomeAssistantClient, unique_id: str) -> Entity:
    return ha.entities()[unique_id]
