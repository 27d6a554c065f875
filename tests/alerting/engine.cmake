# tests of alerting component "engine"
