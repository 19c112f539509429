"""Collecting the directory: subscribed SKUs, users with licences, licensing groups.

Pages are fetched raw and spooled to files; ``m365audit.store.directory``
loads them into DuckDB in one transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from m365audit.collect.graph import GraphClient, Page
from m365audit.collect.spool import ChunkedSpool, PageSpool, SpoolFolder
from m365audit.store.directory import stage_user_pages

USER_SELECT = ",".join((
    "id", "userPrincipalName", "displayName", "mail", "department", "companyName", "jobTitle",
    "officeLocation", "accountEnabled", "userType", "createdDateTime", "assignedLicenses",
    "assignedPlans", "licenseAssignmentStates",
))
GROUP_SELECT = "id,displayName,assignedLicenses"
PAGE_SIZE = 999  # Graph's maximum for users

Progress = Callable[[str, int], None]  # (label, records just fetched)


USER_CHUNK_PAGES = 50  # about 50,000 users, 90 MB of JSON, per background staging step


@dataclass
class DirectorySpools:
    skus: PageSpool
    users: ChunkedSpool
    groups: PageSpool
    members: PageSpool
    member_groups: list[str] = field(default_factory=list)
    users_staged: Path | None = None  # Parquet of the typed user rows (a glob), staged during the fetch


class _UserStager:
    """Converts finished chunks of user pages to typed Parquet in a worker thread, during the fetch."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="m365audit-stage-users")
        self._futures: list[Future[None]] = []

    def submit(self, chunk: PageSpool) -> None:
        self._futures.append(self._pool.submit(stage_user_pages, chunk.path, chunk.path.with_suffix(".parquet"),
                                               chunk.longest))

    async def finish(self) -> None:
        """Wait for every chunk (without blocking the event loop); a failed conversion is raised here."""
        try:
            for future in self._futures:
                await asyncio.wrap_future(future)
        finally:
            self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


async def _drain(client: GraphClient, path: str, spool: PageSpool | ChunkedSpool, label: str,
                 progress: Progress | None, headers: dict[str, str] | None = None) -> None:
    async for page in client.iter_pages(path, headers=headers):
        before = spool.records
        spool.add(page)
        if progress:
            progress(label, spool.records - before)


async def collect_directory(client: GraphClient, folder: SpoolFolder, *,
                            member_groups: list[str] | None = None,
                            users_path: str | None = None,
                            progress: Progress | None = None) -> DirectorySpools:
    """Fetch SKUs, users and groups concurrently; then members of the groups that matter.

    Members are collected for groups that assign licences and for the groups
    named in ``member_groups`` (display names or ids, e.g. the training group).
    """
    stager = _UserStager()
    users = folder.chunked_spool("users", chunk_pages=USER_CHUNK_PAGES, envelopes=True, on_chunk=stager.submit)
    spools = DirectorySpools(folder.spool("skus"), users, folder.spool("groups"), folder.spool("group_members"))
    users_path = users_path or f"/users?$select={USER_SELECT}&$top={PAGE_SIZE}"
    try:
        await asyncio.gather(
            _drain(client, "/subscribedSkus", spools.skus, "licences", None),
            _drain(client, users_path, spools.users, "users", progress),
            _drain(client, f"/groups?$select={GROUP_SELECT}&$top=999", spools.groups, "groups", None),
        )
        spools.users.close()  # hands the last chunk to the stager
        spools.skus.close()
        spools.groups.close()
        await _collect_members(client, spools, member_groups, progress)
        await stager.finish()
    finally:
        stager.close()  # also when the fetch failed: no conversion outlives the spool folder
    spools.users_staged = folder.path / "users-*.parquet"
    return spools


async def _collect_members(client: GraphClient, spools: DirectorySpools, member_groups: list[str] | None,
                           progress: Progress | None) -> None:
    wanted = {g.casefold() for g in (member_groups or [])}
    targets: list[str] = []
    for line in spools.groups.path.read_bytes().splitlines():
        for group in orjson.loads(line)["body"].get("value", []):
            named = (group.get("displayName") or "").casefold() in wanted or group.get("id", "").casefold() in wanted
            if group.get("assignedLicenses") or named:
                targets.append(group["id"])
    spools.member_groups = targets
    for group_id in targets:
        # transitiveMembers pages carry no group id; tag each page so the loader knows it.
        async for page in client.iter_pages(
                f"/groups/{group_id}/transitiveMembers?$select=id&$top=999"):
            page.data["m365audit.groupId"] = group_id
            tagged = page.body.rstrip()
            if tagged.endswith(b"}"):
                tagged = tagged[:-1] + b',"m365audit.groupId":' + orjson.dumps(group_id) + b"}"
            spools.members.add(Page(page.url, tagged, page.data))
            if progress:
                progress("group members", len(page.data.get("value", [])))
    spools.members.close()
