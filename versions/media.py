"""How a frame's sources are shown in a browser: an image, an audio or video player, the text
itself, a link, or a URI the browser cannot open (s3://, gs://) — for the labeling page, the
frame browser's thumbnails and the frame page.

An http(s) URI whose extension names no media is shown as an image (many image services have
no extension); the page then falls back to a link when it does not load (static/js).
"""

from __future__ import annotations

from typing import Any

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".svg", ".avif", ".ico")
AUDIO_SUFFIXES = (".mp3", ".wav", ".ogg", ".oga", ".flac", ".m4a", ".aac", ".opus")
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".m4v", ".ogv", ".mkv")
LINK_SUFFIXES = (".txt", ".json", ".csv", ".pdf", ".html", ".htm", ".xml", ".md", ".ndjson")
WEB_SCHEMES = ("http://", "https://")
# Metadata or source keys that may name a media type ("image/png", "video", "audio/mpeg", …).
TYPE_KEYS = ("mime_type", "media_type", "type", "content_type")


def _suffix(uri: str) -> str:
    path = uri.split("?", 1)[0].split("#", 1)[0].lower()
    last = path.rsplit("/", 1)[-1]
    return "." + last.rsplit(".", 1)[-1] if "." in last else ""


def _hinted(hint: Any) -> str | None:
    if not isinstance(hint, str):
        return None
    head = hint.strip().lower().split("/", 1)[0]
    return {"image": "image", "audio": "audio", "video": "video", "text": "link"}.get(head)


def media_kind(uri: Any, *, hint: Any = None) -> str:
    """`image`, `audio`, `video`, `link` (open it), `uri` (not for a browser) or `text`."""
    if not isinstance(uri, str) or not uri.strip():
        return "text"
    lowered = uri.strip().lower()
    if lowered.startswith("data:"):
        return _hinted(lowered[5:].split(";", 1)[0].split(",", 1)[0]) or "link"
    if not lowered.startswith(WEB_SCHEMES):
        # "s3://bucket/key" is a URI a browser cannot open; anything else is the text itself.
        scheme, sep, rest = lowered.partition("://")
        if sep and scheme.isalnum() and rest and " " not in lowered:
            return "uri"
        return "text"
    suffix = _suffix(lowered)
    if suffix in AUDIO_SUFFIXES:
        return "audio"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    hinted = _hinted(hint)
    if hinted:
        return hinted
    if suffix in LINK_SUFFIXES:
        return "link"
    return "image"  # an image service without an extension; the page falls back to a link


def frame_media(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """Each source of a frame as `{name, uri, kind, preview}`: `preview` is a URI an <img> may
    show as a thumbnail (the source's preview, else the source itself when it is an image)."""
    meta = frame.get("meta") if isinstance(frame.get("meta"), dict) else {}
    meta_hint = next((meta[k] for k in TYPE_KEYS if isinstance(meta.get(k), str)), None)
    media = []
    for index, source in enumerate(frame.get("sources") or []):
        if not isinstance(source, dict):
            continue
        uri = source.get("uri")
        hint = next((source[k] for k in TYPE_KEYS if isinstance(source.get(k), str)), meta_hint)
        kind = media_kind(uri, hint=hint)
        preview_uri = (source.get("preview") or {}).get("uri")
        preview = None
        if isinstance(preview_uri, str) and media_kind(preview_uri, hint="image") == "image":
            preview = preview_uri
        elif kind == "image":
            preview = uri
        media.append(
            {
                "name": source.get("id") or f"source {index + 1}",
                "uri": uri if isinstance(uri, str) else "",
                "kind": kind,
                "preview": preview,
            }
        )
    return media


def frame_thumbnail(frame: dict[str, Any]) -> str | None:
    """The first source's thumbnail URI, if any source has one."""
    return next((m["preview"] for m in frame_media(frame) if m["preview"]), None)
