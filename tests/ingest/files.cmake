# tests of ingest component "files"
