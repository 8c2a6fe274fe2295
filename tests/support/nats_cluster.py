"""A real 3-node NATS JetStream cluster for tests: `gateway.devtools.nats_cluster`, with the
binary looked up as every test server is (skip with a reason when missing; fail under
SHELFSENSE_REQUIRE_SERVICES=1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.devtools import nats_cluster
from gateway.devtools.nats_cluster import NatsCluster
from tests.support.services import find_binary


@contextmanager
def running_nats_cluster(
    workdir: Path, stores: tuple[str, ...] = ("s1", "s2")
) -> Iterator[NatsCluster]:
    with nats_cluster.running_nats_cluster(workdir, stores, binary=find_binary("nats-server")) as c:
        yield c
