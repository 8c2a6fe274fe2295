"""The wire contract's topics and ids: every received topic is read one way, and an id is
one rule wherever it arrives."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from edge.contract.ids import Identifier, is_identifier
from edge.contract.topics import (
    CameraTopic,
    CameraTopics,
    PosSalesTopic,
    TopicKind,
    UnknownTopic,
    camera_subscription,
    gateway_availability_topic,
    parse_topic,
    pos_sales_topic,
)


def test_camera_and_pos_topics_read_back_to_their_parts() -> None:
    topics = CameraTopics("store-1", "cam-1", "acme")
    for kind in TopicKind:
        assert parse_topic(topics.topic(kind), "acme") == CameraTopic(
            topics.topic(kind), "store-1", "cam-1", kind
        )
    sales = pos_sales_topic("store-1", "acme")
    assert parse_topic(sales, "acme") == PosSalesTopic(sales, "store-1")


@pytest.mark.parametrize(
    ("topic", "problem"),
    [
        ("other/store-1/cam-1/state", "is not shelfsense/<store>/<camera>/<kind>"),
        ("shelfsense/store-1/state", "is not shelfsense/<store>/<camera>/<kind>"),
        ("shelfsense//pos_sales", "is not shelfsense/<store>/<camera>/<kind>"),
        ("shelfsense/store-1/cam-1/video", "unknown kind 'video' (known: availability, "),
    ],
)
def test_a_topic_that_is_neither_says_why(topic: str, problem: str) -> None:
    parsed = parse_topic(topic)
    assert isinstance(parsed, UnknownTopic)
    assert parsed.text == topic
    assert problem in parsed.problem


def test_the_gateway_availability_is_no_camera_or_store_topic() -> None:
    topic = gateway_availability_topic("shelfsense")
    assert topic == "shelfsense/_gateway/availability"
    assert isinstance(parse_topic(topic), UnknownTopic)
    assert len(topic.split("/")) != len(camera_subscription().split("/"))
    assert not is_identifier(topic.split("/")[1])


class _Ids(BaseModel):
    store: Identifier


@pytest.mark.parametrize(
    "text", ["store-1", "S.1_a", "a" * 64, "", "-store", "a/b", "a+", "#", "a b", "a" * 65, "x\n"]
)
def test_is_identifier_agrees_with_the_payload_field(text: str) -> None:
    try:
        _Ids(store=text)
        accepted = True
    except ValidationError:
        accepted = False
    assert is_identifier(text) is accepted
