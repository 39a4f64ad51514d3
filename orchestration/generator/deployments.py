"""Deployment webhooks: each deployment goes pending -> ready or failed; some get rolled back.

A rollback is a new deployment of the previously live version, with `rollback_of` naming the
deployment it replaces; once it is ready, the replaced deployment reports `rolled_back`.
There are a handful a day per website, so plain Python is fine here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from orchestration.contract import EVENTS
from orchestration.generator import catalog
from orchestration.generator.arrays import (
    HOUR_MS,
    MINUTE_MS,
    random_uuids,
    strings,
    timestamps,
)
from orchestration.generator.catalog import FAILED, PENDING, PROJECTS, READY, ROLLED_BACK, Event
from orchestration.generator.landing import contract_table
from orchestration.generator.sessions import Delivery, EventBatch
from orchestration.generator.world import World

DEPLOYS_PER_DAY = 1.6
FAILURE_SHARE = 0.12
ROLLBACK_SHARE = 0.15


def _hex(rng: np.random.Generator, digits: int) -> str:
    return "".join(f"{value:x}" for value in rng.integers(0, 16, digits))


def _deploy_url(provider: str, project: catalog.Project, rng: np.random.Generator) -> str:
    if provider == "netlify":
        return f"https://{_hex(rng, 24)}--{project.project_id}.netlify.app"
    if provider == "vercel":
        return f"https://{project.project_id}-{_hex(rng, 9)}-{project.tenant_id}.vercel.app"
    return f"https://{_hex(rng, 8)}.{project.project_id}.pages.dev"


@dataclass
class Deployments:
    """Deployments of every project with a website; the live version carries over across days."""

    live: dict[int, str] = field(default_factory=dict)

    def events(
        self, world: World, day_ms: int, limit: int, rng: np.random.Generator, delivery: Delivery
    ) -> EventBatch:
        rows: list[tuple[int, int, dict[str, str]]] = []
        for p, project in enumerate(PROJECTS):
            provider = project.deploy_provider
            if provider is None:
                continue
            starts = np.sort(rng.integers(7 * HOUR_MS, 21 * HOUR_MS, rng.poisson(DEPLOYS_PER_DAY)))
            for start in day_ms + starts:
                rows.extend(self._deployment(p, project, provider, int(start), rng))
        rows.sort(key=lambda row: row[1])
        sent = np.array([at for _, at, _ in rows], dtype=np.int64) + rng.integers(
            100, 1_500, len(rows)
        )
        received = sent + rng.integers(30, 800, len(rows))
        keep = np.flatnonzero(received <= delivery.horizon_ms)[:limit]
        rows = [rows[i] for i in keep]
        r = len(rows)
        project = np.array([p for p, _, _ in rows], dtype=np.int64)
        providers = [PROJECTS[p].deploy_provider for p in project]
        columns = {
            "message_id": random_uuids(rng, r),
            "tenant_id": world.tenant_id.take(pa.array(project)),
            "project_id": world.project_id.take(pa.array(project)),
            "event_type": world.event_type.take(pa.array(np.full(r, Event.DEPLOYMENT))),
            "event_name": world.event_name.take(pa.array(np.full(r, Event.DEPLOYMENT))),
            "timestamp": timestamps(np.array([at for _, at, _ in rows], dtype=np.int64)),
            "sent_at": timestamps(sent[keep]),
            "received_at": timestamps(received[keep]),
            "anonymous_id": strings([f"deploy-hook-{provider}" for provider in providers]),
            "properties": strings(
                [json.dumps(props, separators=(",", ":")) for _, _, props in rows]
            ),
            "sdk_version": strings([catalog.DEPLOY_SDK] * r),
        }
        return EventBatch(contract_table(EVENTS, columns, r), identified=np.array([], int))

    def _deployment(
        self,
        p: int,
        project: catalog.Project,
        provider: str,
        start: int,
        rng: np.random.Generator,
        rollback_of: str | None = None,
        version: str | None = None,
    ) -> list[tuple[int, int, dict[str, str]]]:
        deployment = {
            "deployment_id": f"dpl_{_hex(rng, 12)}",
            "version_id": version or _hex(rng, 7),
            "provider": provider,
            "deploy_url": _deploy_url(provider, project, rng),
        }
        if rollback_of:
            deployment["rollback_of"] = rollback_of

        def status(at: int, value: str) -> tuple[int, int, dict[str, str]]:
            return p, at, {**deployment, "status": value}

        rows = [status(start, PENDING)]
        if rollback_of is None and rng.random() < FAILURE_SHARE:
            rows.append(status(start + int(rng.integers(20_000, 4 * MINUTE_MS)), FAILED))
            return rows
        ready_at = start + int(rng.integers(40_000, 6 * MINUTE_MS))
        rows.append(status(ready_at, READY))
        previous = self.live.get(p)
        self.live[p] = deployment["version_id"]
        if rollback_of is None and previous and rng.random() < ROLLBACK_SHARE:
            rollback = self._deployment(
                p,
                project,
                provider,
                ready_at + int(rng.integers(10 * MINUTE_MS, 3 * HOUR_MS)),
                rng,
                rollback_of=deployment["deployment_id"],
                version=previous,
            )
            rows.extend(rollback)
            rows.append(status(rollback[-1][1] + int(rng.integers(500, 5_000)), ROLLED_BACK))
        return rows
