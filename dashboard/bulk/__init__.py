"""The bulk engine: read, convert, write in chunks and export records of any record type.

An app plugs a record type in with a `RecordType` declaration (fields, unique keys, a chunk
writer); the engine streams CSV / JSON / NDJSON (`readers`), converts values (`fields`), runs
resumable import jobs (`engine`) and streams exports (`export`). Nothing here imports an app.
"""
