"""The peers the suite runs against are real: PostgreSQL (unless the SQLite smoke run) and Redis."""

from __future__ import annotations

import os

import pytest
import redis
from django.db import connection

from tests.peers import RedisServer, free_port, port_open


@pytest.mark.smoke
@pytest.mark.django_db
def test_database_is_postgresql_unless_the_sqlite_smoke_run() -> None:
    expected = "sqlite" if os.environ.get("CC_TEST_DATABASE", "").lower() == "sqlite" else "postgresql"
    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 + 1")
        assert cursor.fetchone() == (2,)


@pytest.mark.django_db
def test_postgresql_test_database_is_on_a_loopback_throwaway_cluster() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the SQLite smoke run has no PostgreSQL")
    assert connection.settings_dict["HOST"] == "127.0.0.1"
    assert connection.settings_dict["NAME"].startswith("test_")


@pytest.mark.peers
def test_redis_answers_ping(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    try:
        assert client.ping() is True
        client.set("cc:peer-check", "ok")
        assert client.get("cc:peer-check") == b"ok"
    finally:
        client.close()


@pytest.mark.peers
def test_redis_comes_back_on_the_same_port_after_a_stop(redis_server: RedisServer) -> None:
    port = redis_server.port
    redis_server.stop(kill=True)
    assert not redis_server.ping()
    assert not port_open(port)

    redis_server.start()

    assert redis_server.port == port
    client = redis.Redis.from_url(redis_server.url)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_free_port_is_not_listening() -> None:
    assert not port_open(free_port())
