# tests of alerting component "service"
