# tests of alerting component "cap"
