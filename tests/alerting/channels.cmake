# tests of alerting component "channels"
