"""Listening to channel-layer groups from synchronous tests.

The pub/sub channel layer (``RedisPubSubChannelLayer``) keeps its channels and subscriptions per
event loop, so a test that calls ``async_to_sync(layer.new_channel)()`` and then
``async_to_sync(layer.group_add)(...)`` (each call a loop of its own) is refused. A
:class:`GroupListener` runs one loop in a thread of its own for the listener's life.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from types import TracebackType
from typing import Any

from channels.layers import get_channel_layer


class GroupListener:
    """Joins ``groups`` with one channel each and collects what arrives (``next(group)``)."""

    def __init__(self, groups: list[str]) -> None:
        """Start the loop thread; returns once every group is joined (so nothing sent after is missed)."""
        self.groups = groups
        self.received: dict[str, queue.Queue[dict[str, Any]]] = {group: queue.Queue() for group in groups}
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"could not join {groups}: {self._error!r}")

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to the constructor
            self._error = exc
            self._ready.set()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _main(self) -> None:
        layer = get_channel_layer()
        assert layer is not None
        self._stop = asyncio.Event()
        channels = {group: await layer.new_channel() for group in self.groups}
        for group, channel in channels.items():
            await layer.group_add(group, channel)

        async def pump(group: str, channel: str) -> None:
            while True:
                self.received[group].put(await layer.receive(channel))

        pumps = [asyncio.ensure_future(pump(group, channel)) for group, channel in channels.items()]
        self._ready.set()
        await self._stop.wait()
        for task in pumps:
            task.cancel()
        for group, channel in channels.items():
            await layer.group_discard(group, channel)

    def next(self, group: str, timeout: float = 5) -> dict[str, Any]:
        """The next message sent to ``group`` (raises ``queue.Empty`` after ``timeout`` seconds)."""
        return self.received[group].get(timeout=timeout)

    def close(self) -> None:
        """Leave the groups and stop the loop thread."""
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def __enter__(self) -> GroupListener:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
