"""Test set-up: real PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set (CI always sets them).

Tests marked ``postgres`` need row locks, triggers and real concurrent transactions; they fail
(not skip) on another database, so a misconfigured run cannot pass silently.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings
from django.db import connection
from pytest_django.fixtures import _set_suffix_to_test_databases

#: The tests' secret key. Settings are loaded before this file (pytest-django), without a key
#: outside debug mode; the tests set it here, and in the environment for the servers they start.
TEST_SECRET_KEY = "patron-tests-only-secret-key-never-used-elsewhere-0123456789"
os.environ.setdefault("PATRON_SECRET_KEY", TEST_SECRET_KEY)
django_settings.SECRET_KEY = os.environ["PATRON_SECRET_KEY"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A test database of this run's own (``test_patron_<PATRON_TEST_SUFFIX>``) when scripts/test sets one.

    Concurrent runs against one PostgreSQL server would otherwise create and drop the same
    ``test_patron`` under each other (pytest-django's xdist suffix does the same for workers).
    """
    suffix = os.environ.get("PATRON_TEST_SUFFIX")
    if suffix:
        _set_suffix_to_test_databases(suffix=suffix)


def pytest_collection_modifyitems(config, items):
    """Nothing to change; kept to document that no test is skipped by configuration."""


@pytest.fixture
def postgres(db):
    """Assert that the test runs on PostgreSQL."""
    assert connection.vendor == "postgresql", "this test needs PostgreSQL: set DATABASE_URL (see README)"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """Rate-limit counters (login, till) start empty in every test; under CI they live in Redis."""
    from marketplace.throttle import throttle_reset

    throttle_reset()
    yield
    throttle_reset()


@pytest.fixture(autouse=True)
def _reset_dramatiq_broker():
    """Empty the broker's queues around each test so that no message leaks between tests.

    ``flush_all`` empties the queues (with their delay and dead-letter queues) the broker
    declared: Redis keys under the run's namespace, or, with ``BROKER_URL`` set for the whole
    run, RabbitMQ queues of its vhost (give each run its own vhost: queues are global in one).
    """
    import dramatiq

    broker = dramatiq.get_broker()
    broker.flush_all()
    yield
    broker.flush_all()


@pytest.fixture(autouse=True)
def _fast_password_hashing():
    """Hash test passwords with MD5: PBKDF2 is slow on purpose (a login costs ~0.3 s), which buys
    the tests nothing and made every logged-in test pay for it. (``override_settings`` rather
    than pytest-django's ``settings`` fixture, which some tests' parameters shadow.)"""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def worker():
    """A dramatiq worker with two threads on the configured broker, in this process; stopped after the test.

    Yields the broker, so a test can ``join`` a queue. Needs ``django_db(transaction=True)``: the
    worker's threads see only committed rows.
    """
    import dramatiq

    broker = dramatiq.get_broker()
    running = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    running.start()
    yield broker
    running.stop()
