"""Bulk work on data rows and frames: record types and their set-based writer (`records`),
starting the jobs (`start`), the job kinds (`jobs`) and the import pages (`views`)."""
