# tests of the alerting clients (watch/ack, Python client, crash test)
