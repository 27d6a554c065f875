# tests of ingest component "live"
