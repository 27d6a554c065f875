# tests of ingest component "radar"
