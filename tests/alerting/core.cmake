# tests of alerting component "core"
