"""Building one user's audit records for one day, following the documented AuditData schema.

Every value is drawn from a ``random.Random`` seeded by (seed, day, user,
record type), in a fixed order: first the times (so a partial-day query can
count records without building them), then each record's details.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from m365audit.simulator import activity_catalogue as ac
from m365audit.simulator import catalogue as cat
from m365audit.simulator.behaviour import ActivityRates

DAY_SECONDS = 86_400
_EPOCH_ORDINAL = datetime(1970, 1, 1).toordinal()


# The planted document an agent plant reads.
_AGENT_DOCUMENTS = {"agent_restricted": "restricted_label", "agent_prohibited_site": "prohibited_site"}


@dataclass(frozen=True, slots=True)
class Person:
    """A user who may appear in the audit log."""

    index: int
    upn: str
    user_id: str
    display_name: str
    seat_from: int | None  # date ordinal from which the user holds a Copilot seat
    chat: bool  # uses Copilot Chat when not (yet) licensed
    third_party: bool  # also uses a third-party AI app
    weight: float  # 0 = never; mean 1; heavy users up to 2.5
    favourite: int  # index into SEAT_APPS of the app this user reaches for most
    home_site: str
    plant_days: dict[str, int] = field(default_factory=dict)  # planted kind -> date ordinal (behaviour.PLANT_KINDS)
    last_day: int | None = None  # date ordinal of the last day with activity ("stops" plant)
    app: int | None = None  # index into THIRD_PARTY_APPS of the only app this user uses
    program: int | None = None  # index into PROGRAMS: this actor's records are that program's or product's
    owner: int | None = None  # the directory user a PROGRAMS persona acts as (scope filters), None for a program


@dataclass(frozen=True)
class Document:
    site: str
    name: str
    kind: str  # file extension, used as AccessedResources.Type and Contexts.Type
    resource_id: str
    url: str


class RecordBuilder:
    """Turns (person, day, draws) into AuditData dicts for one tenant."""

    def __init__(self, seed: int, tenant_id: str, site_url: Any, rates: ActivityRates) -> None:
        self.seed = seed
        self.tenant_id = tenant_id
        self.rates = rates
        self.site_url = site_url
        self.documents = {site: _site_documents(seed, site, site_url(site)) for site in cat.SITES}
        self._app_weights = [_app_cumulative(fav) for fav in range(len(ac.SEAT_APPS))]
        self._label_cum = _cumulative(ac.ORDINARY_LABELS)

    # ----- times -------------------------------------------------------------
    def rng(self, day: int, person: Person, record_type: str) -> random.Random:
        return random.Random(hash((self.seed, day, person.index, ac.RECORD_TYPES[record_type], 77)))

    @staticmethod
    def times(rng: random.Random, n: int) -> list[int]:
        """Seconds into the (UTC) day, sorted: mostly working hours, a few evenings."""
        out = []
        for _ in range(n):
            if rng.random() < 0.92:
                out.append(int(27_000 + rng.random() * 36_000))  # 07:30 to 17:30
            else:
                out.append(int(rng.random() * DAY_SECONDS))
        out.sort()
        return out

    # ----- records -----------------------------------------------------------
    def hosts(self, rng: random.Random, person: Person, n: int, licensed: bool) -> list[str]:
        """The app of each of ``n`` records, drawn right after the times (the usage report needs only these)."""
        if not licensed:
            return [ac.CHAT_APP] * n
        weights = self._app_weights[person.favourite]
        return [_pick(weights, ac.SEAT_APPS, rng.random()) for _ in range(n)]

    def user_day(self, day: int, person: Person, record_type: str, n: int,
                 licensed: bool) -> list[dict[str, Any]]:
        rng = self.rng(day, person, record_type)
        base = (day - _EPOCH_ORDINAL) * DAY_SECONDS
        times = self.times(rng, n)
        if record_type != ac.COPILOT:
            return [self.third_party(rng, person, base + t) for t in times]
        if person.program is not None:
            return [self.program(rng, person, base + t) for t in times]
        hosts = self.hosts(rng, person, n, licensed)
        records = [self.copilot(rng, person, base + t, host, licensed)
                   for t, host in zip(times, hosts, strict=True)]
        kinds = [kind for kind, planted_day in person.plant_days.items() if planted_day == day]
        if kinds and records:
            self._plant(records[0], kinds)  # after every draw, so the other records stay as generated
        return records

    def _plant(self, record: dict[str, Any], kinds: list[str]) -> None:
        """Make one generated Copilot record carry the planted events (simulator/planted.py)."""
        event = record["CopilotEventData"]
        if "jailbreak" in kinds:
            event["Messages"][0]["JailbreakDetected"] = True
        for kind in kinds:
            if kind in ac.PLANTED_AGENTS:
                record["AgentId"], record["AgentName"], record["AgentVersion"] = ac.PLANTED_AGENTS[kind]
            document = _AGENT_DOCUMENTS.get(kind, kind)
            if document in ac.PLANTED_DOCUMENTS:
                site, name, label = ac.PLANTED_DOCUMENTS[document]
                event["AccessedResources"].insert(0, self.planted_resource(site, name, label, document == "xpia"))

    def planted_resource(self, site: str, name: str, label: str | None, xpia: bool) -> dict[str, Any]:
        kind = name.rsplit(".", 1)[-1]
        digest = hashlib.blake2b(f"{self.seed}:{site}:{name}".encode(), digest_size=30).hexdigest().upper()
        resource: dict[str, Any] = {"Action": "Read", "Id": digest, "Name": name}
        if label:
            resource["SensitivityLabelId"] = cat.LABEL_BY_NAME[label].label_id
        resource.update({"SiteUrl": planted_url(self.site_url(site), name), "Status": "Success", "Type": kind,
                         "XPIADetected": xpia, "listItemUniqueId": digest})
        return resource

    def copilot(self, rng: random.Random, person: Person, epoch: int, host: str,
                licensed: bool) -> dict[str, Any]:
        record = self._common(rng, person, epoch, ac.COPILOT, "Copilot")
        record["AppIdentity"] = ac.APP_IDENTITY[host] if licensed else ac.CHAT_IDENTITY
        plugins: list[dict[str, Any]] = []
        if host == "Bing" or (host == "BizChat" and rng.random() < self.rates.web_search):
            plugins.append({"Id": "BingWebSearch", "Name": "BuiltIn"})
        if host == "BizChat" and rng.random() < self.rates.agents:
            suffix, name, version = ac.AGENTS[_below(rng, len(ac.AGENTS))]
            record["AgentId"] = f"CopilotStudio.Declarative.{suffix}"
            record["AgentName"] = name
            record["AgentVersion"] = version
        elif host == "BizChat" and int(record["Id"][-6:], 16) % ac.MICROSOFT_AGENT_EVERY == 0:
            record["AgentName"] = ac.MICROSOFT_AGENTS[int(record["Id"][-7], 16) % len(ac.MICROSOFT_AGENTS)]
        record["CopilotEventData"] = {
            "AISystemPlugin": plugins,
            "AccessedResources": self._resources(rng, person),
            "AppHost": host,
            "Contexts": self._contexts(rng, person, host),
            "MessageIds": [],
            "Messages": self._messages(rng, epoch),
            "ModelTransparencyDetails": [],
            "ThreadId": f"19:{_token(rng, 40)}@thread.v2",
        }
        if host in ac.APPCHAT_HOSTS and int(record["Id"][:8], 16) % ac.APPCHAT_SHARE == 0:
            # The older revision's spelling: Copilot in an app, the app named by its context
            # (no draw: every other value stays as generated).
            record["CopilotEventData"]["AppHost"] = "appchat"
        return record

    def program(self, rng: random.Random, person: Person, epoch: int) -> dict[str, Any]:
        """A record of a PROGRAMS actor: its UserType, AppHost and AppIdentity; no resources, no flags."""
        assert person.program is not None
        spec = ac.PROGRAMS[person.program]
        record = self._common(rng, person, epoch, ac.COPILOT, "Copilot")
        record["UserType"] = spec.user_type
        if spec.app_identity:
            record["AppIdentity"] = spec.app_identity
        ms = epoch * 1000 + _below(rng, 1000)
        record["CopilotEventData"] = {
            "AISystemPlugin": [], "AccessedResources": [], "AppHost": spec.app_host, "Contexts": [],
            "MessageIds": [],
            "Messages": [{"Id": str(ms), "isPrompt": True, "JailbreakDetected": False},
                         {"Id": str(ms + 900), "isPrompt": False}],
            "ModelTransparencyDetails": [], "ThreadId": f"19:{_token(rng, 40)}@thread.v2",
        }
        return record

    def third_party(self, rng: random.Random, person: Person, epoch: int) -> dict[str, Any]:
        drawn = _below(rng, len(ac.THIRD_PARTY_APPS))
        host, identity = ac.THIRD_PARTY_APPS[drawn if person.app is None else person.app]
        record = self._common(rng, person, epoch, ac.THIRD_PARTY, "AIApp")
        record["AppIdentity"] = identity
        record["CopilotEventData"] = {
            "AccessedResources": [], "AppHost": host, "Contexts": [],
            "Messages": self._messages(rng, epoch), "ThreadId": _token(rng, 32),
        }
        return record

    def _common(self, rng: random.Random, person: Person, epoch: int, record_type: str,
                workload: str) -> dict[str, Any]:
        return {
            "CreationTime": _creation_time(epoch),
            "Id": _uuid(rng.getrandbits(128)),
            "Operation": record_type,
            "OrganizationId": self.tenant_id,
            "RecordType": ac.RECORD_TYPES[record_type],
            "UserKey": person.user_id,
            "UserType": 0,
            "Version": 1,
            "Workload": workload,
            "ClientIP": f"81.2.{64 + _below(rng, 64)}.{1 + _below(rng, 254)}",
            "ClientRegion": "GB",
            "UserId": person.upn,
            "CopilotLogVersion": "1.0.0.0",
        }

    def _messages(self, rng: random.Random, epoch: int) -> list[dict[str, Any]]:
        turns = 1 if rng.random() < 0.8 else 2 if rng.random() < 0.75 else 3
        ms = epoch * 1000 + _below(rng, 1000)
        out: list[dict[str, Any]] = []
        for _ in range(turns):
            flagged = rng.random() < self.rates.jailbreak
            out.append({"Id": str(ms), "isPrompt": True, "JailbreakDetected": flagged})
            ms += 400 + _below(rng, 4000)
            out.append({"Id": str(ms), "isPrompt": False})
            ms += 1000 + _below(rng, 60_000)
        return out

    def _contexts(self, rng: random.Random, person: Person, host: str) -> list[dict[str, str]]:
        if host in ("Word", "Outlook") and rng.random() < self.rates.restricted_documents:
            name = ac.RESTRICTED_DOCUMENTS[_below(rng, len(ac.RESTRICTED_DOCUMENTS))]
            site = self.site_url("LegalServices" if "Legal" in name else "HumanResources")
            return [{"Id": f"{site}/Shared%20Documents/{quote(name)}?web=1", "Type": "docx"}]
        kind = ac.CONTEXT_TYPES.get(host)
        if kind is not None:
            docs = self.documents[person.home_site]
            doc = docs[_below(rng, len(docs))]
            return [{"Id": doc.url.replace(f".{doc.kind}?", f".{kind}?"), "Type": kind}]
        if host == "Teams":
            if rng.random() < 0.6:
                return [{"Id": f"https://teams.microsoft.com/l/meeting/19:meeting_{_token(rng, 32)}@thread.v2",
                         "Type": "TeamsMeeting"}]
            return [{"Id": f"19:{_token(rng, 32)}@thread.v2", "Type": "TeamsChat"}]
        if host == "Outlook":
            return [{"Id": f"<{_token(rng, 24)}@{self.tenant_id[:8]}.mail>", "Type": "Email"}]
        return []

    def _resources(self, rng: random.Random, person: Person) -> list[dict[str, Any]]:
        if rng.random() >= self.rates.accessed_resources:
            return []
        count = 1 + (rng.random() < 0.4) + (rng.random() < 0.15)
        return [self._resource(rng, person) for _ in range(count)]

    def _resource(self, rng: random.Random, person: Person) -> dict[str, Any]:
        rates = self.rates
        x = rng.random()
        if rng.random() < rates.safeguarding_site:
            site = cat.PROHIBITED_SITE
        elif x < 0.6:
            site = person.home_site
        elif x < 0.85:
            site = ac.INTRANET
        else:
            site = ac.ORDINARY_SITES[_below(rng, len(ac.ORDINARY_SITES))]
        docs = self.documents[site]
        doc = docs[_below(rng, len(docs))]
        resource: dict[str, Any] = {"Action": "Read", "Id": doc.resource_id, "Name": doc.name}
        if rng.random() < rates.labelled:
            if rng.random() < rates.highly_confidential:
                resource["SensitivityLabelId"] = ac.HIGHLY_CONFIDENTIAL
            else:
                resource["SensitivityLabelId"] = _pick(self._label_cum, ac.ORDINARY_LABELS, rng.random())
        resource.update({"SiteUrl": doc.url, "Status": "Success", "Type": doc.kind,
                         "XPIADetected": rng.random() < rates.xpia, "listItemUniqueId": doc.resource_id})
        return resource


def planted_url(site_url: str, name: str) -> str:
    """The address of a file in a site's document library, as SiteUrl carries it."""
    return f"{site_url}/Shared%20Documents/{quote(name)}?web=1"


def _site_documents(seed: int, site: str, site_url: str) -> tuple[Document, ...]:
    docs = []
    for k in range(ac.DOCUMENTS_PER_SITE):
        kind = ac.DOCUMENT_TYPES[k % len(ac.DOCUMENT_TYPES)]
        name = ac.DOCUMENT_STEMS[k % len(ac.DOCUMENT_STEMS)].format(n=k + 1) + f".{kind}"
        digest = hashlib.blake2b(f"{seed}:{site}:{k}".encode(), digest_size=30).hexdigest()
        url = planted_url(site_url, name)
        docs.append(Document(site, name, kind, digest.upper(), url))
    return tuple(docs)


def _cumulative(weighted: tuple[tuple[str, int], ...]) -> list[float]:
    total = sum(w for _, w in weighted)
    acc = 0.0
    out = []
    for _, w in weighted:
        acc += w / total
        out.append(acc)
    return out


def _app_cumulative(favourite: int) -> list[float]:
    boosted = tuple((name, w * 3 if i == favourite else w) for i, (name, w) in enumerate(ac.SEAT_APPS))
    return _cumulative(boosted)


def _pick(cumulative: list[float], weighted: tuple[tuple[str, int], ...], x: float) -> str:
    for edge, (name, _) in zip(cumulative, weighted, strict=True):
        if x < edge:
            return name
    return weighted[-1][0]


def _uuid(bits: int) -> str:
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def _token(rng: random.Random, length: int) -> str:
    """``length`` URL-safe characters (length a multiple of 4)."""
    raw = rng.getrandbits(6 * length).to_bytes(length * 3 // 4, "little")
    return base64.urlsafe_b64encode(raw).decode()


def _below(rng: random.Random, n: int) -> int:
    # randrange is several times slower and this is the simulator's hot loop.
    return int(rng.random() * n)


def _creation_time(epoch: int) -> str:
    """CreationTime as the audit log writes it: UTC without an offset."""
    day, seconds = divmod(epoch, DAY_SECONDS)
    stamp = _day_stamp(day)
    return f"{stamp}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@lru_cache(maxsize=512)
def _day_stamp(day: int) -> str:
    return datetime.fromtimestamp(day * DAY_SECONDS, UTC).strftime("%Y-%m-%d")
