"""Fixtures of the integrations tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integrations.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback HTTP server recording webhook requests; stopped after the test."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def _loopback_receivers_allowed(settings):
    """The receiver is plain http on loopback, as on a developer's machine (production needs https)."""
    settings.PATRON_WEBHOOK_ALLOW_HTTP = True
