"""Sensitivity label endpoints, in the two shapes Microsoft documents.

- v1.0 ``/security/dataSecurityAndGovernance/sensitivityLabels``: top-level
  labels with their ``sublabels`` nested, ``priority`` (the label order; no
  ``sensitivity`` field) and ``isEnabled`` (no ``isActive``).
- beta ``/security/informationProtection/sensitivityLabels``: a flat list
  where each label carries ``sensitivity``, ``isActive``, ``isAppliable``,
  ``hasProtection`` and its ``parent`` object (null for top-level labels).

The catalogue is ``m365audit.simulator.catalogue.LABELS``; a label's
priority is its position there.
"""

from __future__ import annotations

import re
from typing import Any

from m365audit.simulator import catalogue as cat
from m365audit.simulator.http import Request, Response, Router
from m365audit.simulator.tenant import Tenant

V1_PATH = r"/security/dataSecurityAndGovernance/sensitivityLabels"
BETA_PATH = r"/security/informationProtection/sensitivityLabels"
_COLOURS = ("#107C10", "#0078D4", "#FFB900", "#D83B01", "#A4262C", "#5C2D91", "#767676")


def _has_sublabels(label: cat.LabelDef) -> bool:
    return any(other.parent_id == label.label_id for other in cat.LABELS)


def _common(label: cat.LabelDef) -> dict[str, Any]:
    return {"id": label.label_id, "name": label.name, "description": f"Information marked {label.name}.",
            "color": _COLOURS[cat.LABELS.index(label) % len(_COLOURS)]}


def v1_label(label: cat.LabelDef) -> dict[str, Any]:
    """A label as v1.0 serialises it, with its sublabels nested."""
    return {
        **_common(label),
        "displayName": label.name,
        "priority": cat.LABELS.index(label),
        "toolTip": f"Apply to information that is {label.name}.",
        "isEnabled": label.is_active,
        "isDefault": False,
        "isEndpointProtectionEnabled": label.has_protection,
        "isScopedToUser": False,
        "actionSource": "manual",
        "autoTooltip": "",
        "applicableTo": "email,teamwork,file",
        "locale": "en-GB",
        "sublabels": [v1_label(child) for child in cat.LABELS if child.parent_id == label.label_id],
    }


def beta_label(label: cat.LabelDef, *, with_parent: bool = True) -> dict[str, Any]:
    """A label as beta serialises it, with its parent object (or null)."""
    body = {
        **_common(label),
        "sensitivity": label.sensitivity,
        "tooltip": f"Apply to information that is {label.name}.",
        "isActive": label.is_active,
        "isAppliable": label.is_active and not _has_sublabels(label),
        "contentFormats": ["file", "email"],
        "hasProtection": label.has_protection,
    }
    if with_parent:
        parent = cat.LABELS_BY_ID.get(label.parent_id or "")
        body["parent"] = beta_label(parent, with_parent=False) if parent else None
    return body


def register(router: Router, tenant: Tenant) -> None:
    def list_v1(request: Request, _m: re.Match[str]) -> Response:
        value = [v1_label(label) for label in cat.LABELS if label.parent_id is None]
        return Response.json({
            "@odata.context": f"{request.root}/$metadata#security/dataSecurityAndGovernance/sensitivityLabels",
            "value": value})

    def list_beta(request: Request, _m: re.Match[str]) -> Response:
        return Response.json({
            "@odata.context": f"{request.root}/$metadata#security/informationProtection/sensitivityLabels",
            "value": [beta_label(label) for label in cat.LABELS]})

    router.add("GET", V1_PATH, list_v1, versions=("v1.0", "beta"))
    router.add("GET", BETA_PATH, list_beta, versions=("beta",))
