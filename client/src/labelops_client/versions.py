"""ClearML-style datasets and versions (the DatasetVersion seed): `DatasetVersion` class
methods on the default client, frames (`SingleFrame`) and the `BulkContext`."""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .client import Client, Resource, Task, default_client, parse_time, quote
from .errors import Conflict, LabelopsError, NotFound

if TYPE_CHECKING:
    from .records import Dataset


class SingleFrame:
    """A frame: `SingleFrame(source=…, id=…, metadata=…, rois=…, sources=…)`."""

    def __init__(
        self,
        source: str | None = None,
        id: str | None = None,  # noqa: A002 (the seed's name)
        metadata: dict | None = None,
        rois: list[dict] | None = None,
        sources: list[dict] | None = None,
        global_key: str | None = None,
    ) -> None:
        self.id = id
        self.sources = list(sources or ([{"id": "Frame", "uri": source}] if source else []))
        self.metadata = dict(metadata or {})
        self.rois = list(rois or [])
        self.global_key = global_key

    @property
    def uid(self) -> str | None:
        """The frame's id (every object has `.uid` and `.id`)."""
        return self.id

    @property
    def source(self) -> str | None:
        return self.sources[0]["uri"] if self.sources else None

    def add_annotation(
        self,
        labels: Sequence[str],
        box2d_xywh: Sequence[float] | None = None,
        confidence: float | None = None,
        poly2d_xy: Sequence[float] | None = None,
    ) -> None:
        """ClearML `SingleFrame.add_annotation(labels, box2d_xywh, confidence)`: one ROI."""
        roi: dict[str, Any] = {"label": list(labels)}
        if confidence is not None:
            roi["confidence"] = confidence
        if box2d_xywh is not None:
            roi["bbox"] = list(box2d_xywh)
        if poly2d_xy is not None:
            roi["poly"] = list(poly2d_xy)
        self.rois.append(roi)

    def to_api(self) -> dict:
        body: dict[str, Any] = {"sources": self.sources, "meta": self.metadata, "rois": self.rois}
        if self.id:
            body["id"] = self.id
        if self.global_key is not None:
            body["global_key"] = self.global_key
        return body

    @classmethod
    def from_api(cls, body: dict) -> SingleFrame:
        frame = cls(
            id=body.get("id"),
            metadata=body.get("meta"),
            rois=body.get("rois"),
            sources=body.get("sources"),
            global_key=body.get("global_key"),
        )
        frame.attachments = body.get("attachments") or []
        return frame

    def __repr__(self) -> str:
        return f"<SingleFrame {self.id} {self.source!r}>"


Frame = SingleFrame | dict


class hybridmethod:  # noqa: N801 (used as a decorator, like classmethod)
    """A method callable on the class (the seed's deprecated class-method form, which names
    the version by dataset/version id or name) and on an instance."""

    def __init__(self, func: Any) -> None:
        self.func = func
        self.__doc__ = func.__doc__

    def __get__(self, obj: Any, cls: type) -> Any:
        return types.MethodType(self.func, cls if obj is None else obj)


class MaskLabels(list):
    """The labels of one mask value: a list, as `set_masks_labels` takes them, that also
    equals the same labels as a tuple (the seed's `Dict[tuple, tuple]`)."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, tuple):
            return tuple(self) == other
        return list.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]


def frame_body(frame: Frame) -> dict:
    return frame.to_api() if isinstance(frame, SingleFrame) else dict(frame)


def frame_id(frame: Frame | str) -> str:
    if isinstance(frame, str):
        return frame
    value = frame.id if isinstance(frame, SingleFrame) else frame.get("id")
    if not value:
        raise ValueError("A frame to delete needs its id.")
    return value


def one_of(a: Any, b: Any, names: str) -> None:
    if a is not None and b is not None:
        raise LabelopsError(f"{names} are mutually exclusive.")


def dataset_id_of(
    client: Client,
    dataset_id: str | None,
    dataset_name: str | None,
    dataset_project: str | None = None,
) -> str:
    """The dataset's id, by id or by name; with `dataset_project` (the seed's project of the
    dataset) it must be that dataset's project, else `NotFound`."""
    one_of(dataset_id, dataset_name, "dataset_id and dataset_name")
    if not dataset_id and not dataset_name:
        raise LabelopsError("Give dataset_id or dataset_name.")
    if dataset_id and dataset_project is None:
        return dataset_id
    path = f"datasets/{dataset_id}/" if dataset_id else f"datasets/by-name/{quote(dataset_name)}/"
    body = client.get(path)
    if dataset_project is not None and (body.get("dataset_project") or "") != dataset_project:
        raise NotFound(
            f"No dataset {dataset_id or dataset_name!r} in project {dataset_project!r}.",
            status=404,
            body={"detail": "Not found.", "code": "not_found"},
        )
    return body["id"]


class BulkContext:
    """ClearML `BulkContext`: collects frame changes and sends them every `flush_threshold`
    changes and on exit."""

    def __init__(self, version: DatasetVersion, flush_threshold: int | None = None) -> None:
        self.version = version
        self.flush_threshold = flush_threshold
        self.adds: list[Frame] = []
        self.updates: list[Frame] = []
        self.deletes: list[str] = []
        self.source_deletes: list[str] = []  # deletes with delete_sources
        self.failures: list[dict] = []

    def __enter__(self) -> BulkContext:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.flush()

    def _changed(self) -> None:
        pending = len(self.adds) + len(self.updates) + len(self.deletes) + len(self.source_deletes)
        if self.flush_threshold and pending >= self.flush_threshold:
            self.flush()

    def add_frame(self, frame: Frame, warn_on_duplicate_frames: bool = False) -> None:
        """ClearML `BulkContext.add_frame`."""
        if warn_on_duplicate_frames:
            self.version.warn_duplicates([frame])
        self.adds.append(frame)
        self._changed()

    def update_frame(self, frame: Frame) -> None:
        """ClearML `BulkContext.update_frame`."""
        self.updates.append(frame)
        self._changed()

    def delete_frame(self, frame: Frame | str, delete_sources: bool = False) -> None:
        """ClearML `BulkContext.delete_frame(frame, delete_sources)`."""
        (self.source_deletes if delete_sources else self.deletes).append(frame_id(frame))
        self._changed()

    def flush(self) -> None:
        """ClearML `BulkContext.flush()`: send the outstanding changes."""
        adds, updates, deletes = self.adds, self.updates, self.deletes
        source_deletes = self.source_deletes
        self.adds, self.updates, self.deletes, self.source_deletes = [], [], [], []
        if adds:
            self.failures += self.version.add_frames(adds)
        if updates:
            self.version.update_frames(updates)
        if deletes:
            self.version.delete_frames(deletes)
        if source_deletes:
            self.version.delete_frames(source_deletes, delete_sources=True)


class DatasetVersion(Resource):
    """A dataset version (ClearML `DatasetVersion`). Do not instantiate: use the class
    methods (`get_version`, `get_current`, `create_version`, …)."""

    def __init__(self, client: Client, body: dict, dataset_name: str | None = None) -> None:
        super().__init__(client, body)
        self._dataset_name = dataset_name
        self._added_ids: set[str] = set()
        self._bulk: BulkContext | None = None

    version_id = Resource.uid
    version_name = Resource.name
    dataset_id = property(lambda self: self.body["dataset"])
    comment = property(lambda self: self.body.get("description", ""))
    is_draft = property(lambda self: self.body.get("status") == "draft")
    draft = is_draft
    parent_id = property(lambda self: self.body.get("parent"))

    @property
    def dataset_name(self) -> str:
        if self._dataset_name is None:
            self._dataset_name = self.client.get(f"datasets/{self.dataset_id}/")["name"]
        return self._dataset_name

    @property
    def last_updated(self) -> datetime | None:
        return parse_time(self.body.get("updated_at"))

    @property
    def published_at(self) -> datetime | None:
        return parse_time(self.body.get("published_at"))

    @property
    def path(self) -> str:
        return f"versions/{self.id}/"

    # ------------------------------------------------------------ class methods

    @classmethod
    def create_new_dataset(
        cls,
        dataset_name: str,
        description: str | None = None,
        tags: list[str] | None = None,
        raise_if_exists: bool = False,
        dataset_project: str | None = None,
        client: Client | None = None,
    ) -> Dataset:
        """ClearML `DatasetVersion.create_new_dataset`: the `Dataset` (`.id`, `.uid`,
        `.name`, `.tags`; `dataset["id"]` reads its fields too); an existing name returns it,
        or raises `Conflict` (a ValueError) with raise_if_exists."""
        from .records import Dataset

        client = client or default_client()
        body = {
            "name": dataset_name,
            "description": description or "",
            "tags": tags or [],
            "dataset_project": dataset_project or "",
            "raise_if_exists": raise_if_exists,
        }
        return Dataset(client, client.post("datasets/", body).json())

    @classmethod
    def get_datasets(
        cls, tags: list[str] | None = None, client: Client | None = None
    ) -> list[Dataset]:
        """ClearML `DatasetVersion.get_datasets(tags)`: the `Dataset`s, oldest first."""
        from .records import Dataset

        client = client or default_client()
        pages = client.paginate("datasets/", {"tags": tags} if tags else None)
        return [Dataset(client, body) for body in pages]

    @classmethod
    def create_version(
        cls,
        version_name: str,
        description: str | None = None,
        dataset_id: str | None = None,
        dataset_name: str | None = None,
        parent_version_ids: list[str] | None = None,
        parent_version_names: list[str] | None = None,
        raise_if_exists: bool = False,
        dataset_project: str | None = None,
        client: Client | None = None,
    ) -> DatasetVersion:
        """ClearML `DatasetVersion.create_version`: an existing draft of that name is
        returned (or `Conflict` with raise_if_exists)."""
        client = client or default_client()
        one_of(parent_version_ids, parent_version_names, "parent_version_ids and _names")
        dataset = dataset_id_of(client, dataset_id, dataset_name, dataset_project)
        parents = parent_version_ids or parent_version_names or [None]
        body = {
            "name": version_name,
            "description": description or "",
            "parent": parents[0],
            "raise_if_exists": raise_if_exists,
        }
        return cls(client, client.post(f"datasets/{dataset}/versions/", body).json())

    @classmethod
    def get_current(
        cls,
        dataset_id: str | None = None,
        dataset_name: str | None = None,
        dataset_project: str | None = None,
        client: Client | None = None,
    ) -> DatasetVersion:
        """ClearML `DatasetVersion.get_current`: the current writable version."""
        client = client or default_client()
        dataset = dataset_id_of(client, dataset_id, dataset_name, dataset_project)
        return cls(client, client.get(f"datasets/{dataset}/versions/current/"), dataset_name)

    @classmethod
    def get_version(
        cls,
        dataset_id: str | None = None,
        dataset_name: str | None = None,
        version_id: str | None = None,
        version_name: str | None = None,
        raise_on_multiple: bool = False,
        dataset_project: str | None = None,
        client: Client | None = None,
    ) -> DatasetVersion:
        """ClearML `DatasetVersion.get_version`: by id, by name, or the current one."""
        client = client or default_client()
        one_of(version_id, version_name, "version_id and version_name")
        if version_id:
            return cls(client, client.get(f"versions/{version_id}/"), dataset_name)
        dataset = dataset_id_of(client, dataset_id, dataset_name, dataset_project)
        if version_name is None:
            return cls.get_current(dataset_id=dataset, client=client)
        path = f"datasets/{dataset}/versions/by-name/{quote(version_name)}/"
        body = client.get(path, raise_on_multiple=str(raise_on_multiple).lower())
        return cls(client, body, dataset_name)

    @classmethod
    def get_versions(
        cls,
        dataset_name: str | None = None,
        dataset_id: str | None = None,
        only_published: bool = False,
        only_draft: bool = False,
        dataset_project: str | None = None,
        client: Client | None = None,
    ) -> list[DatasetVersion]:
        """ClearML `DatasetVersion.get_versions`: latest updated first."""
        client = client or default_client()
        dataset = dataset_id_of(client, dataset_id, dataset_name, dataset_project)
        params = {
            "only_published": str(only_published).lower(),
            "only_draft": str(only_draft).lower(),
        }
        pages = client.paginate(f"datasets/{dataset}/versions/", params)
        return [cls(client, body, dataset_name) for body in pages]

    @classmethod
    def remove_version(
        cls,
        dataset_id: str | None = None,
        dataset_name: str | None = None,
        version_id: str | None = None,
        version_name: str | None = None,
        force: bool = False,
        dataset_project: str | None = None,
        client: Client | None = None,
    ) -> None:
        """ClearML `DatasetVersion.remove_version` (`Conflict` for a published one unless
        force)."""
        version = cls._resolve(
            dataset_id, dataset_name, version_id, version_name, client, dataset_project
        )
        version.client.request("DELETE", version.path, params={"force": str(force).lower()})

    @classmethod
    def create_snapshot(
        cls,
        version_name: str | None = None,
        version_id: str | None = None,
        dataset_name: str | None = None,
        dataset_id: str | None = None,
        publish_name: str | None = None,
        publish_comment: str | None = None,
        publish_metadata: dict | None = None,
        child_name: str | None = None,
        child_comment: str | None = None,
        child_metadata: dict | None = None,
        dataset_project: str | None = None,
        client: Client | None = None,
    ) -> DatasetVersion:
        """ClearML `DatasetVersion.create_snapshot`: publishes the version and returns its
        new draft child."""
        version = cls._resolve(
            dataset_id, dataset_name, version_id, version_name, client, dataset_project
        )
        fields = {
            "publish_name": publish_name,
            "publish_comment": publish_comment,
            "publish_metadata": publish_metadata,
            "child_name": child_name,
            "child_comment": child_comment,
            "child_metadata": child_metadata,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        child = version.client.post(version.path + "snapshot/", body).json()
        return cls(version.client, child, dataset_name)

    @classmethod
    def _resolve(
        cls, dataset_id, dataset_name, version_id, version_name, client, dataset_project=None
    ):
        return cls.get_version(
            dataset_id,
            dataset_name,
            version_id,
            version_name,
            dataset_project=dataset_project,
            client=client,
        )

    @classmethod
    def get_single_frame(
        cls,
        frame_id: str,
        dataset_id: str | None = None,
        dataset_name: str | None = None,
        version_id: str | None = None,
        version_name: str | None = None,
        dataset_project: str | None = None,
        client: Client | None = None,
    ) -> SingleFrame:
        """ClearML `DatasetVersion.get_single_frame`."""
        version = cls._resolve(
            dataset_id, dataset_name, version_id, version_name, client, dataset_project
        )
        return SingleFrame.from_api(version.client.get(f"{version.path}frames/{quote(frame_id)}/"))

    @classmethod
    def get_frames_by_source(
        cls,
        source_uri: str,
        dataset_id: str | None = None,
        dataset_name: str | None = None,
        version_id: str | None = None,
        version_name: str | None = None,
        dataset_project: str | None = None,
        client: Client | None = None,
    ) -> list[SingleFrame]:
        """ClearML `DatasetVersion.get_frames_by_source` (`*` matches any run)."""
        version = cls._resolve(
            dataset_id, dataset_name, version_id, version_name, client, dataset_project
        )
        pages = version.client.paginate(version.path + "frames/", {"source": source_uri})
        return [SingleFrame.from_api(body) for body in pages]

    # ------------------------------------------------------------ frames of this version

    @hybridmethod
    def get_frames_by_ids(
        self_or_cls: Any,  # noqa: N805 (an instance, or the class: see hybridmethod)
        frame_ids: Sequence[str],
        projection: Sequence[str] | None = None,
        dataset_id: str | None = None,
        dataset_name: str | None = None,
        version_id: str | None = None,
        version_name: str | None = None,
        dataset_project: str | None = None,
        client: Client | None = None,
    ) -> list:
        """ClearML `dataset_version.get_frames_by_ids(frame_ids, projection)`: frames (dicts
        with a projection), 10,000 ids per request in the body. Also a class method, as in the
        seed: `DatasetVersion.get_frames_by_ids(frame_ids, projection, dataset_id=…,
        dataset_name=…, version_id=…, version_name=…)` (the current version if no version is
        named); on an instance those arguments are not needed."""
        if isinstance(self_or_cls, DatasetVersion):
            version = self_or_cls
        else:
            version = self_or_cls._resolve(
                dataset_id, dataset_name, version_id, version_name, client, dataset_project
            )
        found: list = []
        ids = list(frame_ids)
        for start in range(0, len(ids), 10_000):
            body: dict[str, Any] = {"ids": ids[start : start + 10_000]}
            if projection:
                body["projection"] = list(projection)
            found += version.client.post(version.path + "frames/query/", body).json()["results"]
        return found if projection else [SingleFrame.from_api(f) for f in found]

    def get_iterator(self, projection: Sequence[str] | None = None) -> Iterator:
        """ClearML `get_iterator(projection)`: every frame, lazily (dicts with a
        projection, else `SingleFrame`s)."""
        params = {"projection": ",".join(projection)} if projection else None
        for body in self.client.paginate(self.path + "frames/", params):
            yield body if projection else SingleFrame.from_api(body)

    def warn_duplicates(self, frames: Sequence[Frame]) -> None:
        for frame in frames:
            fid = frame.id if isinstance(frame, SingleFrame) else frame.get("id")
            if fid and fid in self._added_ids:
                warnings.warn(f"Frame {fid} was already added to this version.", stacklevel=3)
            if fid:
                self._added_ids.add(fid)

    def add_frames(
        self,
        frames: Sequence[Frame],
        warn_on_duplicate_frames: bool = False,
        batch_size: int = 1000,
    ) -> list[dict]:
        """ClearML `add_frames`: the failures `[{frame, error, error_type, …}]` (each also in
        the API's row-failure shape: `index`, `key`, `message`, `code`). A frame whose id an
        earlier frame of the same request has is a failure (`duplicate`; the first is used);
        `warn_on_duplicate_frames` also warns of ids added by earlier calls on this object."""
        if warn_on_duplicate_frames:
            self.warn_duplicates(frames)
        failed: list[dict] = []
        frames = list(frames)
        for start in range(0, len(frames), batch_size):
            chunk = [frame_body(f) for f in frames[start : start + batch_size]]
            response = self.client.post(self.path + "frames/", {"frames": chunk})
            if response.status_code == 202:  # a job: its row errors, in the same shape
                found = [
                    {**e, "frame": e.get("input"), "error": e.get("message")}
                    for e in Task(self.client, response.json()).errors()
                ]
            else:
                found = response.json()["failed"]
            for failure in found:
                index = failure.get("index")
                if isinstance(index, int) and 0 <= index < len(frames) - start:  # as given
                    failure = {**failure, "index": index + start, "frame": frames[index + start]}
                failed.append(failure)
        return failed

    def update_frames(
        self, frames: Sequence[Frame], without_fields: list[str] | None = None
    ) -> None:
        """ClearML `update_frames(frames, without_fields)`: merged into the frames."""
        body: dict[str, Any] = {"frames": [frame_body(f) for f in frames]}
        if without_fields:
            body["without_fields"] = list(without_fields)
        self.client.request("PATCH", self.path + "frames/", json=body)

    def delete_frames(self, frames: Sequence[Frame | str], delete_sources: bool = False) -> int:
        """ClearML `delete_frames(frames, delete_sources)` (ids or frames): how many were
        deleted. An id the version lacks raises `NotFound` (its body's `missing` lists
        them) and nothing is deleted; `delete_sources` also removes the deleted frames' source
        records that no version still holds."""
        body: dict[str, Any] = {"ids": [frame_id(f) for f in frames]}
        if delete_sources:
            body["delete_sources"] = True
        return self.client.post(self.path + "frames/delete/", body).json()["deleted"]

    def get_bulk_context(self, flush_threshold: int | None = None) -> BulkContext:
        """ClearML `get_bulk_context(flush_threshold)`: the one `BulkContext` of this object."""
        if self._bulk is None:
            self._bulk = BulkContext(self, flush_threshold)
        elif flush_threshold is not None:
            self._bulk.flush_threshold = flush_threshold
        return self._bulk

    def flush(self) -> None:
        """ClearML `flush()`: send the bulk context's outstanding changes, if any."""
        if self._bulk is not None:
            self._bulk.flush()

    def _reload(self, body: dict) -> DatasetVersion:
        self.body = body
        return self

    def commit_version(self) -> DatasetVersion:
        """ClearML `commit_version()`: merges changes and refreshes statistics (waits)."""
        response = self.client.post(self.path + "commit/")
        if response.status_code == 202:
            Task(self.client, response.json()).wait_till_done()
            return self._reload(self.client.get(self.path))
        return self._reload(response.json())

    def publish_version(self) -> bool:
        """ClearML `publish_version()`: True, or False if it was already published."""
        try:
            self._reload(self.client.post(self.path + "publish/").json())
        except Conflict:
            return False
        return True

    def get_stats(self) -> dict:
        """ClearML `get_stats()`: `{frame_count, source_count, label_counts, last_updated}`
        (`last_updated` a `datetime`)."""
        stats = self.client.get(self.path + "stats/")
        if isinstance(stats.get("last_updated"), str):
            stats["last_updated"] = parse_time(stats["last_updated"])
        return stats

    def get_parent(self) -> str | None:
        """ClearML `get_parent()`: the parent version's id."""
        return self.parent_id

    def get_metadata(self) -> dict:
        """ClearML `get_metadata()`."""
        return self.client.get(self.path + "metadata/")

    def set_metadata(self, metadata: dict) -> bool:
        """ClearML `set_metadata(metadata)`: True, or False for a published version."""
        try:
            self.client.request("PUT", self.path + "metadata/", json=metadata)
        except Conflict:
            return False
        return True

    def set_masks_labels(self, mask_value_label_mapping: dict) -> bool:
        """ClearML `set_masks_labels({(r, g, b): [labels]})`: True, or False for a published
        version."""
        body = [
            {"value": list(value), "labels": list(labels)}
            for value, labels in mask_value_label_mapping.items()
        ]
        try:
            self.client.request("PUT", self.path + "mask-labels/", json=body)
        except Conflict:
            return False
        return True

    def get_masks_labels(self) -> dict[tuple, list]:
        """ClearML `get_masks_labels()`: `{(r, g, b): [labels…]}`, the shape
        `set_masks_labels` takes (each label list also equals the same labels as a tuple, the
        seed's return type)."""
        items = self.client.get(self.path + "mask-labels/")
        return {tuple(item["value"]): MaskLabels(item["labels"]) for item in items}

    def __repr__(self) -> str:
        return f"<DatasetVersion {self.id} {self.name!r} {self.body.get('status')}>"
