"""Collecting the directory: subscribed SKUs, users with licences, licensing groups.

Pages are fetched raw and spooled to files; ``m365audit.store.directory``
loads them into DuckDB in one transaction.

Users are collected incrementally. A full round lists every user with
``/users`` (999 a page; ``/users/delta`` does not take ``$top`` and pages by
about 200) after first asking ``/users/delta?$deltatoken=latest`` for a
delta link, so the next run asks only for what changed since before the
listing (a change seen twice is harmless: the merge is idempotent). The link
is stored with the snapshot in the same transaction. When Graph says the
link has expired (``syncStateNotFound``, after about 7 days), the run falls
back to a full round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from m365audit.collect.graph import GraphClient, GraphResponseError, Page
from m365audit.collect.spool import ChunkedSpool, PageSpool, SpoolFolder
from m365audit.store.directory import stage_user_pages

log = logging.getLogger("m365audit.collect")

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
    user_changes: PageSpool | None = None  # a delta round: only the users changed since the stored link
    delta_link: str | None = None  # the link to store for the next run

    @property
    def users_full(self) -> bool:
        return self.user_changes is None

    @property
    def users_path(self) -> Path:
        return self.users.path if self.user_changes is None else self.user_changes.path


# Graph's answers when a delta link can no longer be used: start a full round.
_EXPIRED_CODES = {"syncstatenotfound", "resyncrequired", "syncstateinvalid"}


def delta_expired(exc: GraphResponseError) -> bool:
    return exc.status == 410 or (exc.status == 400 and (exc.code or "").casefold() in _EXPIRED_CODES)


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
                            delta_link: str | None = None,
                            progress: Progress | None = None) -> DirectorySpools:
    """Fetch SKUs, users and groups concurrently; then members of the groups that matter.

    Members are collected for groups that assign licences and for the groups
    named in ``member_groups`` (display names or ids, e.g. the training group).
    ``users_path`` (a scope's own user listing) turns delta collection off;
    otherwise ``delta_link`` (from the last snapshot) asks only for changes.
    """
    stager = _UserStager()
    users = folder.chunked_spool("users", chunk_pages=USER_CHUNK_PAGES, envelopes=True, on_chunk=stager.submit)
    spools = DirectorySpools(folder.spool("skus"), users, folder.spool("groups"), folder.spool("group_members"))
    try:
        await asyncio.gather(
            _drain(client, "/subscribedSkus", spools.skus, "licences", None),
            _collect_users(client, folder, spools, users_path, delta_link, progress),
            _drain(client, f"/groups?$select={GROUP_SELECT}&$top=999", spools.groups, "groups", None),
        )
        spools.users.close()  # hands the last chunk to the stager
        spools.skus.close()
        spools.groups.close()
        await _collect_members(client, spools, member_groups, progress)
        await stager.finish()
    finally:
        stager.close()  # also when the fetch failed: no conversion outlives the spool folder
    if spools.users_full:
        spools.users_staged = folder.path / "users-*.parquet"
    return spools


async def _collect_users(client: GraphClient, folder: SpoolFolder, spools: DirectorySpools,
                         users_path: str | None, delta_link: str | None, progress: Progress | None) -> None:
    if users_path:
        await _drain(client, users_path, spools.users, "users", progress)
        return
    if delta_link:
        changes = folder.spool("user_changes", envelopes=True)
        try:
            spools.delta_link = await _drain_delta(client, delta_link, changes, progress)
        except GraphResponseError as exc:
            if not delta_expired(exc):
                raise
            log.info("the stored users delta link has expired; listing every user again")
            changes.close()
        else:
            changes.close()
            spools.user_changes = changes
            return
    spools.delta_link = await _drain_delta(client, f"/users/delta?$select={USER_SELECT}&$deltatoken=latest",
                                           None, None)
    await _drain(client, f"/users?$select={USER_SELECT}&$top={PAGE_SIZE}", spools.users, "users", progress)


async def _drain_delta(client: GraphClient, link: str, spool: PageSpool | None,
                       progress: Progress | None) -> str:
    """Follow a delta round to its end; return the new delta link."""
    delta: str | None = None
    async for page in client.iter_pages(link):
        if spool is not None:
            before = spool.records
            spool.add(page)
            if progress:
                progress("users", spool.records - before)
        delta = page.delta_link
    if delta is None:
        raise GraphResponseError("Microsoft Graph ended a users delta round without a delta link.", 200, None)
    return delta


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


def delta_state(link: str | None, scope: str | None) -> str | None:
    """The value stored in collection_state for the next run: the link and what it was made for."""
    if link is None:
        return None
    return orjson.dumps({"link": link, "select": USER_SELECT, "scope": scope}).decode()


def usable_delta_link(stored: str | None, root: str, scope: str | None) -> str | None:
    """The stored link, unless it was made for another Graph root, scope or selection."""
    if not stored:
        return None
    try:
        state = orjson.loads(stored)
    except orjson.JSONDecodeError:
        return None
    link = state.get("link") if isinstance(state, dict) else None
    if not isinstance(link, str) or not link.startswith(root + "/"):
        return None
    if state.get("select") != USER_SELECT or state.get("scope") != scope:
        return None
    return link
