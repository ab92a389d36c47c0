import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """API throttle counters live in the cache; each test starts with none."""
    cache.clear()
