"""Fixtures every test may use. Peer servers live in tests/peers.py; row factories in tests/factories.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from config.celery import app
from tests.mailpeers import SmtpCapture
from tests.peers import RedisServer


@pytest.fixture
def api_client() -> APIClient:
    """An unauthenticated DRF client; call ``force_authenticate(user)`` on it to act as someone."""
    return APIClient()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Settings) -> None:
    """PBKDF2's production cost (~0.3 s a user) would dominate the suite; MD5 is for tests only."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def celery_worker(redis_server: RedisServer) -> Iterator[None]:
    """A real Celery worker (in this process, one thread) consuming from the real Redis broker.

    Tasks reach the database through their own connection: use it with transactional tests.
    """
    # The broker is already this Redis: tests.peers sets REDIS_URL before the settings load. No ping
    # check: it needs a result backend, which the product does not use; start_worker returns once the
    # worker consumes.
    assert app.conf.broker_url == redis_server.url
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.fixture
def smtp_settings(settings: Settings, smtp_server: SmtpCapture) -> SmtpCapture:
    """The product's SMTP settings pointed at the capturing SMTP server (tests.mailpeers), and Django's
    e-mail API on the product's sender (pytest-django would keep mail in memory)."""
    settings.EMAIL_BACKEND = "mail.backends.AiosmtplibBackend"
    settings.CC_SMTP_HOST, settings.CC_SMTP_PORT, settings.CC_SMTP_TLS = (
        smtp_server.host,
        smtp_server.port,
        "none",
    )
    settings.CC_SMTP_USER = settings.CC_SMTP_PASSWORD = ""
    settings.CC_SMTP_TIMEOUT = 5.0
    return smtp_server
