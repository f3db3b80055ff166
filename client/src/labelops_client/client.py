"""The connection: `Client` (a token, one httpx session), lazy cursor paging, `Task` for
background jobs, and the default client that class methods use (`configure`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

import httpx

from .errors import LabelopsError, TaskTimeout, error_for

if TYPE_CHECKING:
    from .labelbox import Batch, Project
    from .records import Dataset

ENDED = ("succeeded", "failed", "cancelled")
MAX_WAIT = 60


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Client:
    """A connection to a Labelops server (`lb.Client(api_key=...)` in the Labelbox seed)."""

    def __init__(
        self, url: str | None = None, api_key: str | None = None, *, timeout: float = 120.0
    ) -> None:
        url = url or os.environ.get("LABELOPS_URL")
        api_key = api_key or os.environ.get("LABELOPS_API_KEY")
        if not url:
            raise LabelopsError("Give url= or set LABELOPS_URL.")
        base = url.rstrip("/")
        if not base.endswith("/api/v1"):
            base += "/api/v1"
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Token {api_key}"
        self.url = base + "/"
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    # ------------------------------------------------------------ transport

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; a non-2xx answer raises the matching `LabelopsError`."""
        response = self.http.request(method, path, **kwargs)
        check(response)
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None).json()

    def post(self, path: str, json: Any = None, **params: Any) -> httpx.Response:
        return self.request("POST", path, json=json, params=params or None)

    def paginate(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict]:
        """Every item of a cursor-paginated list, fetched a page at a time as it is read."""
        url: str | None = path
        page_params: dict[str, Any] | None = {"page_size": 500, **(params or {})}
        while url:
            page = self.request("GET", url, params=page_params).json()
            yield from page["results"]
            url, page_params = page.get("next"), None  # `next` carries every parameter

    def stream_lines(self, path: str, params: dict[str, Any] | None = None) -> Iterator[str]:
        """The lines of a streamed body, read as they arrive (never the whole body at once)."""
        with self.http.stream("GET", path, params=params) as response:
            if response.status_code >= 400:
                response.read()
                check(response)
            for line in response.iter_lines():
                if line:
                    yield line

    def upload(self, path: str, fileobj: IO[bytes], filename: str, params: dict) -> httpx.Response:
        """POST a file as multipart `file`, streamed from disk."""
        return self.request("POST", path, files={"file": (filename, fileobj)}, params=params)

    def job(self, body: dict) -> Task:
        return Task(self, body)

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------ Labelbox-style entry points

    def create_project(
        self, name: str, description: str = "", label_classes: list[str] | None = None
    ) -> Project:
        """Labelbox `client.create_project`."""
        from .labelbox import Project

        body: dict[str, Any] = {"name": name, "description": description}
        if label_classes is not None:
            body["label_classes"] = label_classes
        return Project(self, self.post("projects/", body).json())

    def get_project(self, project_id: str) -> Project:
        """Labelbox `client.get_project`."""
        from .labelbox import Project

        return Project(self, self.get(f"projects/{project_id}/"))

    def get_projects(self) -> Iterator[Project]:
        """Labelbox `client.get_projects`: a lazy iterator."""
        from .labelbox import Project

        return (Project(self, p) for p in self.paginate("projects/"))

    def get_batch(self, project_id: str, batch_id: str) -> Batch:
        """Labelbox `client.get_batch(project_id, batch_id)`."""
        from .labelbox import Batch

        return Batch(self, self.get(f"projects/{project_id}/batches/{batch_id}/"))

    # ------------------------------------------------------------ ORM-style entry points

    def create_dataset(
        self, name: str, description: str = "", tags: list[str] | None = None
    ) -> Dataset:
        """Labelbox `client.create_dataset` / the ORM's table: a dataset of data rows."""
        from .records import Dataset

        body = {"name": name, "description": description, "tags": tags or []}
        return Dataset(self, self.post("datasets/", body).json())

    def model(self, table_name: str, description: str = "") -> Callable[[type], type]:
        """The ORM's `@airtable_model(table_name=...)`: bind a `BaseModel` subclass to the
        dataset named `table_name`, its typed fields and defaults the metadata schema."""
        from .records import model

        return model(self, table_name, description)

    def get_dataset(self, dataset_id: str) -> Dataset:
        """Labelbox `client.get_dataset`."""
        from .records import Dataset

        return Dataset(self, self.get(f"datasets/{dataset_id}/"))

    def get_dataset_by_name(self, name: str) -> Dataset:
        """A dataset by its unique name (`GET datasets/by-name/{name}/`)."""
        from .records import Dataset

        return Dataset(self, self.get(f"datasets/by-name/{quote(name)}/"))


def quote(value: str) -> str:
    from urllib.parse import quote as _quote

    return _quote(value, safe="")


def check(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = response.text
    raise error_for(response.status_code, body)


class Task:
    """A background job (Labelbox's `Task`): `wait_till_done`, `status`, `result()`,
    `errors()`, `uid`."""

    def __init__(self, client: Client, body: dict) -> None:
        self.client = client
        self.body = body

    @property
    def uid(self) -> str:
        return self.body["id"]

    id = uid

    @property
    def status(self) -> str:
        return self.body["status"]

    @property
    def counts(self) -> dict[str, int]:
        return self.body.get("counts") or {}

    created_at = property(lambda self: parse_time(self.body.get("created_at")))
    started_at = property(lambda self: parse_time(self.body.get("started_at")))
    finished_at = property(lambda self: parse_time(self.body.get("finished_at")))
    updated_at = property(lambda self: parse_time(self.body.get("updated_at")))

    def refresh(self, wait: float = 0) -> Task:
        params = {"wait": wait} if wait else None
        self.body = self.client.request("GET", f"jobs/{self.uid}/", params=params).json()
        return self

    def wait_till_done(self, timeout_seconds: float | None = None) -> Task:
        """Labelbox `task.wait_till_done(timeout_seconds)`: blocks with `GET jobs/{id}/?wait=`
        until the job ends; raises `TaskTimeout` after `timeout_seconds` (None: no limit)."""
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        while self.status not in ENDED:
            left = MAX_WAIT if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise TaskTimeout(f"Job {self.uid} is still {self.status}.", body=self.body)
            self.refresh(wait=min(MAX_WAIT, max(1, int(left))))
        return self

    def result(self) -> Any:
        """Labelbox `task.result()`: the job's result once it has ended (waits for it)."""
        self.wait_till_done()
        return self.body.get("result")

    def errors(self) -> list[dict]:
        """Labelbox `task.errors()`: every per-row error `{index, key, message, error_type, …}`
        (waits for the job), plus the job's own error if it failed."""
        self.wait_till_done()
        errors = list(self.client.paginate(f"jobs/{self.uid}/errors/"))
        if self.body.get("error"):
            errors.append({"index": None, "key": None, "message": self.body["error"]})
        return errors

    def __repr__(self) -> str:
        return f"<Task {self.uid} {self.status}>"


class Resource:
    """An object of the API as the server shaped it (`.body`), with the seeds' common names:
    `.uid` (Labelbox) and `.id`, `.name`, and times as `datetime`s."""

    def __init__(self, client: Client, body: dict) -> None:
        self.client = client
        self.body = body

    uid = property(lambda self: self.body["id"])
    id = uid
    name = property(lambda self: self.body["name"])
    description = property(lambda self: self.body.get("description", ""))
    created_at = property(lambda self: parse_time(self.body.get("created_at")))
    updated_at = property(lambda self: parse_time(self.body.get("updated_at")))


_default: Client | None = None


def configure(url: str | None = None, api_key: str | None = None) -> Client:
    """Set the default client the class methods use (else LABELOPS_URL / LABELOPS_API_KEY)."""
    global _default
    _default = Client(url=url, api_key=api_key)
    return _default


def default_client() -> Client:
    global _default
    if _default is None:
        _default = Client()
    return _default
