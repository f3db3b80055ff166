"""labelops-client: the seed SDKs' verbs (Labelbox batches, ClearML dataset versions, ORM
bulk records) spoken over the Labelops REST API."""

from .client import Client, Task, configure, default_client
from .errors import (
    Conflict,
    InvalidInput,
    LabelopsError,
    NotFound,
    PermissionDenied,
    TaskTimeout,
)
from .labelbox import (
    Batch,
    BufferedJsonConverterOutput,
    BufferedStream,
    ExportTask,
    Project,
    StreamType,
)
from .records import BaseModel, BulkResult, DataRow, DataRows, Dataset
from .versions import BulkContext, DatasetVersion, SingleFrame

__all__ = [
    "BaseModel",
    "Batch",
    "BufferedJsonConverterOutput",
    "BufferedStream",
    "BulkContext",
    "BulkResult",
    "Client",
    "Conflict",
    "DataRow",
    "DataRows",
    "Dataset",
    "DatasetVersion",
    "ExportTask",
    "InvalidInput",
    "LabelopsError",
    "NotFound",
    "PermissionDenied",
    "Project",
    "SingleFrame",
    "StreamType",
    "Task",
    "TaskTimeout",
    "configure",
    "default_client",
]
