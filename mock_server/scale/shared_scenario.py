"""The runtime scenario shared by every API replica: one PostgreSQL row, its version read per request.

`PUT /__admin/scenario`, `POST /__admin/reset` and a generate that takes a queued fate (`next_tasks`)
change the row under its lock and move its `version`. Before each API or admin request a replica reads
the version (`PostgresStore.scenario_since`, one primary-key read); only when it moved does the same
round trip bring the new body and the resets since, which the replica applies in place.

Why a read per request rather than LISTEN/NOTIFY or a cache with a lifetime: it gives read-your-writes
across replicas with nothing to wait for. A request that starts after the PUT's answer (the PUT commits
before it answers) sees the new scenario on whichever replica it reaches, so tests and partners need no
delay and no retry. A notification arrives some time after the commit (a request on another replica
may still see the old scenario), and a cache is stale for its lifetime; both would need a documented
wait. The cost is one small statement per API request, on a connection of the replica's pool.

What each replica keeps apart from the row, and how it follows:

- the scenario's values go to the rate limiter and the URL signer (`holder`), and the cached character
  list (its URLs carry the old lifetime) is dropped;
- a reset is replayed on each replica's own state (`memory`: journal entries, token cache), so a token
  deleted by a reset on one replica stops working on all;
- the random generator (latency ranges, error and drop rates) is each replica's own; it is reseeded
  when a PUT sets `seed` (or a reset returns to the settings' seed). With a seed, each replica's
  sequence repeats; which replica draws which number depends on the balancer.

While the database is unreachable a replica keeps the scenario it last read (the request goes on; the
operations that need the store answer 503 by themselves).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mock_server.api.scenario import Scenario
from mock_server.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mock_server.api.scenario import ScenarioHolder, TenantMemory
    from mock_server.scale.postgres.store import PostgresStore, ScenarioState
    from mock_server.scenario_values import ScenarioFields, TaskFate

__all__ = ["SharedScenario"]

log = logging.getLogger("mock_server")


class SharedScenario:
    """The `ScenarioControl` of a replica on PostgreSQL (`LocalScenario`'s interface and collaborators)."""

    def __init__(
        self,
        store: PostgresStore,
        scenario: Scenario,
        settings: ScenarioFields,
        holder: ScenarioHolder,
        memory: TenantMemory,
    ) -> None:
        self.store = store
        self.scenario = scenario
        self.settings = settings
        self.holder = holder
        self.memory = memory
        #: The row's version this replica applied (-1: none yet) and that of its last reseed.
        self.version = -1
        self.seeded = 0
        self._unreachable = False

    async def sync(self) -> None:
        try:
            state = await self.store.scenario_since(self.version)
        except ServiceUnavailable as err:
            if not self._unreachable:
                log.warning("shared scenario not read, keeping version %d: %s", self.version, err)
            self._unreachable = True
            return
        self._unreachable = False
        if state is not None:
            self._adopt(state)

    def _adopt(self, state: ScenarioState) -> None:
        """Apply `state` unless this replica already holds it or a newer one (requests sync at once)."""
        if state.version <= self.version:
            return
        for version, tenant in state.resets:
            if version > self.version:
                self.memory.forget(tenant)
        self.scenario.adopt(Scenario.of(self.settings, state.body))
        if state.seeded != self.seeded:
            self.scenario.rng.seed(self.scenario.seed)
            self.seeded = state.seeded
        self.version = state.version
        self.holder.take(self.scenario)

    async def put(self, changes: dict[str, Any]) -> None:
        def change(body: Any) -> tuple[Any, bool]:
            scenario = Scenario.of(self.settings, body)
            scenario.merge(changes)  # raises on a bad value: the transaction rolls back
            return scenario.to_dict(), "seed" in changes

        await self.store.update_scenario(change)
        await self.sync()

    async def reset(self, tenant: str | None) -> None:
        await self.store.reset_scenario(tenant)
        await self.sync()  # replays the reset here too

    async def take_next_task(self, tenant: str) -> TaskFate | None:
        if not self.scenario.next_tasks:  # as of this request's sync: nothing queued, no round trip
            return None
        taken: list[TaskFate] = []

        def change(body: Any) -> tuple[Any, bool] | None:
            scenario = Scenario.of(self.settings, body)
            fate = scenario.take_next_task(tenant)
            if fate is None:
                return None
            taken.append(fate)
            return scenario.to_dict(), False

        if await self.store.update_scenario(change):
            await self.sync()
        return taken[0] if taken else None
