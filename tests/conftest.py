"""Fixtures every test may use. Peer servers live in tests/peers.py; row factories in tests/factories.py."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    """An unauthenticated DRF client; call ``force_authenticate(user)`` on it to act as someone."""
    return APIClient()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Settings) -> None:
    """PBKDF2's production cost (~0.3 s a user) would dominate the suite; MD5 is for tests only."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
