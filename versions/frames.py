"""Frame content: validation, normalisation, content hashing and deterministic frame ids.

A frame is `{id, global_key, sources: [{id, uri, timestamp, preview}], meta, rois, attachments}`;
what a version stores (a `FrameRevision`) is everything but `id` and `global_key`.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from dashboard.errors import Invalid

FRAME_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
CONTENT_FIELDS = ("sources", "meta", "rois", "attachments")


def frame_id_for_uri(*, dataset_id: str, uri: str) -> str:
    """The same URI in the same dataset always gives the same frame id."""
    return hashlib.sha1(f"{dataset_id}\x00{uri}".encode()).hexdigest()[:32]


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def check_metadata_keys(value: Any, *, field: str, path: str = "") -> None:
    """Metadata keys may not contain `$` or `.` at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if not isinstance(key, str) or "$" in key or "." in key:
                raise Invalid(f"Key {where!r} may not contain '$' or '.'.", field=field)
            check_metadata_keys(item, field=field, path=where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_metadata_keys(item, field=field, path=f"{path}[{i}]")


def frame_content(frame: dict[str, Any], *, sources_required: bool = True) -> dict[str, Any]:
    """Validate a frame and return its storable content, or raise `Invalid` naming the field.
    A data row may have no source (`sources_required=False`: a metadata-only record, as the
    ORM seed's flat records are); a frame needs one."""
    if not isinstance(frame, dict):
        raise Invalid("A frame must be an object.", field="frame")
    sources = frame.get("sources") or []
    if not isinstance(sources, list) or (sources_required and not sources):
        raise Invalid("A frame needs at least one source {uri}.", field="sources")
    clean_sources = []
    for i, source in enumerate(sources):
        if (
            not isinstance(source, dict)
            or not isinstance(source.get("uri"), str)
            or not source["uri"]
        ):
            raise Invalid(f"Source {i} needs a non-empty string 'uri'.", field="sources")
        clean = {
            "id": str(source.get("id") or ("default" if i == 0 else f"source_{i}")),
            "uri": source["uri"],
        }
        if source.get("timestamp") is not None:
            clean["timestamp"] = source["timestamp"]
        if source.get("preview"):
            clean["preview"] = source["preview"]
        clean_sources.append(clean)
    if len({s["id"] for s in clean_sources}) != len(clean_sources):
        raise Invalid("Source ids must be unique within a frame.", field="sources")
    meta = frame.get("meta") or {}
    if not isinstance(meta, dict):
        raise Invalid("Must be an object.", field="meta")
    check_metadata_keys(meta, field="meta")
    rois = frame.get("rois") or []
    if not isinstance(rois, list):
        raise Invalid("Must be a list of {label, confidence, poly|bbox}.", field="rois")
    for i, roi in enumerate(rois):
        if not isinstance(roi, dict) or not isinstance(roi.get("label", []), list):
            raise Invalid(f"ROI {i} needs 'label' as a list of strings.", field="rois")
    attachments = frame.get("attachments") or []
    if not isinstance(attachments, list):
        raise Invalid("Must be a list of {type, value}.", field="attachments")
    return {"sources": clean_sources, "meta": meta, "rois": rois, "attachments": attachments}


def _deep_merge(base: dict, given: dict) -> dict:
    out = dict(base)
    for key, value in given.items():
        if value is None:
            out.pop(key, None)  # a key sent as null is removed
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def merge_content(base: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """An update merges: `meta` key by key (at any depth; a key sent as null is removed);
    sources, rois and attachments are replaced when given; anything not given keeps its
    value."""
    merged = {
        "sources": given.get("sources") or base.get("sources", []),
        "meta": _deep_merge(base.get("meta") or {}, given.get("meta") or {}),
        "rois": given["rois"] if given.get("rois") is not None else base.get("rois", []),
        "attachments": (
            given["attachments"]
            if given.get("attachments") is not None
            else base.get("attachments", [])
        ),
    }
    return merged
