#!/usr/bin/python3
"""Independent Python client of floodwarn.v1.AlertService.

Stubs are generated from proto/floodwarn/v1/alerts.proto at test time (never
from the C++ build), then a real `floodwarn serve` is started with a throwaway
PKI (tests/alerting/pki.sh) and tokens. The test, as an outside client would:
issues manual alerts with an operator token, subscribes with a subscriber
token, disconnects mid-stream, resumes from the last sequence it processed
and checks that nothing was lost or duplicated, acknowledges an alert and
checks the acknowledgement arrives on the stream, and checks that calls
without a client certificate, without a token, or with too low a role are
refused.

Run by CTest (label integration) with the system /usr/bin/python3 (Debian
python3-grpcio); usage:
  client_test.py --floodwarn BIN --proto-dir DIR --source-dir DIR
"""

import argparse
import hashlib
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ARGS = None


def fail_setup(msg):
    print("client_test.py: " + msg, file=sys.stderr)
    sys.exit(1)


def generate_stubs(proto_dir, out_dir):
    """alerts_pb2 / alerts_pb2_grpc into out_dir: grpc_tools if installed,
    else protoc with the Debian grpc_python_plugin."""
    proto = "floodwarn/v1/alerts.proto"
    os.makedirs(out_dir, exist_ok=True)
    try:
        import grpc_tools  # noqa: F401
        cmd = [sys.executable, "-m", "grpc_tools.protoc"]
    except ImportError:
        protoc = shutil.which("protoc")
        plugin = shutil.which("grpc_python_plugin") or "/usr/bin/grpc_python_plugin"
        if not protoc or not os.path.exists(plugin):
            fail_setup("need protoc and grpc_python_plugin (Debian protobuf-compiler, "
                       "protobuf-compiler-grpc; scripts/setup installs them)")
        cmd = [protoc, "--plugin=protoc-gen-grpc=" + plugin, "--grpc_out=" + out_dir]
    cmd += ["-I" + proto_dir, "-I/usr/include", "--python_out=" + out_dir, proto]
    if "grpc_tools.protoc" in cmd:
        cmd.insert(3, "--grpc_python_out=" + out_dir)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail_setup("stub generation failed: %s\n%s" % (" ".join(cmd), r.stderr))
    sys.path.insert(0, out_dir)


class Server:
    """`floodwarn serve CONFIG` with its output read by a thread."""

    def __init__(self, binary, config):
        self.proc = subprocess.Popen([binary, "serve", config], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines = queue.Queue()
        self.log = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            m = re.search(r"listening on (\S+:\d+)", line)
            if m:
                self.address = m.group(1)
                return
        self.stop()
        fail_setup("floodwarn serve did not start:\n" + "".join(self.log))

    def _read(self):
        for line in self.proc.stdout:
            self.log.append(line)
            self.lines.put(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import grpc
        cls.grpc = grpc
        cls.tmp = tempfile.mkdtemp(prefix="floodwarn_pyclient_")
        generate_stubs(ARGS.proto_dir, os.path.join(cls.tmp, "stubs"))
        from floodwarn.v1 import alerts_pb2, alerts_pb2_grpc
        cls.pb = alerts_pb2
        cls.pb_grpc = alerts_pb2_grpc

        pki = os.path.join(cls.tmp, "pki")
        r = subprocess.run(["/bin/sh", os.path.join(ARGS.source_dir, "tests/alerting/pki.sh"),
                            pki, "operator", "watcher"], capture_output=True, text=True)
        if r.returncode != 0:
            fail_setup("pki.sh failed (openssl missing?):\n" + r.stderr)
        cls.pki = pki
        cls.op_token = "py-operator-token-0123456789"
        cls.watch_token = "py-watcher-token-0123456789"

        def sha(t):
            return hashlib.sha256(t.encode()).hexdigest()

        config = os.path.join(cls.tmp, "serve.toml")
        with open(config, "w") as f:
            f.write(f'''rules_file = "{ARGS.source_dir}/tests/alerting/client_rules.toml"
[service]
listen = "127.0.0.1:0"
metrics_listen = ""
heartbeat_interval = "500ms"
[tls]
cert = "pki/server.pem"
key = "pki/server.key"
client_ca = "pki/ca.pem"
[[auth.tokens]]
principal = "py-operator"
role = "operator"
sha256 = "{sha(cls.op_token)}"
[[auth.tokens]]
principal = "py-watcher"
role = "subscriber"
sha256 = "{sha(cls.watch_token)}"
[store]
path = "alerts.db"
''')
        cls.server = Server(ARGS.floodwarn, config)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def read(self, name):
        with open(os.path.join(self.pki, name), "rb") as f:
            return f.read()

    def stub(self, who="watcher", with_cert=True):
        creds = self.grpc.ssl_channel_credentials(
            root_certificates=self.read("ca.pem"),
            private_key=self.read(who + ".key") if with_cert else None,
            certificate_chain=self.read(who + ".pem") if with_cert else None)
        channel = self.grpc.secure_channel(self.server.address, creds)
        self.addCleanup(channel.close)
        return self.pb_grpc.AlertServiceStub(channel)

    def md(self, token):
        return [("authorization", "Bearer " + token)]

    def issue(self, op, subject, level):
        return op.IssueManual(self.pb.IssueManualRequest(
            subject=subject, level=level, area_id="talstadt",
            headline_de="Test " + subject, headline_en="Test " + subject),
            metadata=self.md(self.op_token), timeout=10)

    def collect(self, stream, stop):
        """Events of `stream` until stop(events) is true; heartbeats skipped."""
        events = []
        for msg in stream:
            if msg.WhichOneof("payload") == "event":
                self.assertEqual(msg.sequence, msg.event.sequence)
                events.append(msg.event)
                if stop(events):
                    break
            elif msg.WhichOneof("payload") == "reset":
                self.fail("unexpected reset: " + msg.reset.message)
        return events

    def subscribe(self, watcher, from_sequence):
        return watcher.Subscribe(self.pb.SubscribeRequest(from_sequence=from_sequence),
                                 metadata=self.md(self.watch_token), timeout=30)

    def test_subscribe_disconnect_resume_and_acknowledge(self):
        pb = self.pb
        op = self.stub("operator")
        watcher = self.stub("watcher")
        # This test's events are those after `begin` (other tests share the server).
        begin = watcher.ListActive(pb.ListActiveRequest(), metadata=self.md(self.watch_token),
                                   timeout=10).sequence
        issued = [self.issue(op, "py-%d" % i, 1 + i % 4) for i in range(3)]
        for a in issued:
            self.assertEqual(a.state, pb.ALERT_STATE_ACTIVE)
        start = watcher.ListActive(pb.ListActiveRequest(), metadata=self.md(self.watch_token),
                                   timeout=10).sequence

        # First connection: take two events, then drop the stream mid-way.
        stream = self.subscribe(watcher, begin)
        first = self.collect(stream, lambda ev: len(ev) == 2)
        stream.cancel()
        self.assertEqual(len(first), 2)
        last = first[-1].sequence

        # While disconnected: more events are committed.
        issued += [self.issue(op, "py-late-%d" % i, 2) for i in range(2)]
        ack_target = issued[0].id
        acked = op.Acknowledge(pb.AcknowledgeRequest(alert_id=ack_target, note="py ack"),
                               metadata=self.md(self.op_token), timeout=10)
        self.assertEqual(acked.state, pb.ALERT_STATE_ACKNOWLEDGED)
        self.assertEqual(acked.ack.by, "py-operator")
        self.assertEqual(acked.ack.note, "py ack")
        newest = watcher.ListActive(pb.ListActiveRequest(), metadata=self.md(self.watch_token),
                                    timeout=10).sequence
        self.assertGreater(newest, start)

        # Resume after the last processed sequence.
        stream = self.subscribe(watcher, last)
        rest = self.collect(stream, lambda ev: ev[-1].sequence >= newest)
        stream.cancel()
        got = [e.sequence for e in first + rest]
        self.assertEqual(len(got), len(set(got)), "duplicate sequence: %s" % got)
        self.assertEqual(got, sorted(got), "out of order: %s" % got)
        self.assertTrue(all(s > last for s in (e.sequence for e in rest)))

        # Nothing lost: a fresh read of the whole outbox gives the same list.
        stream = self.subscribe(watcher, begin)
        full = self.collect(stream, lambda ev: ev[-1].sequence >= newest)
        stream.cancel()
        self.assertEqual(got, [e.sequence for e in full])

        # Every issued alert raised exactly once; the ack arrived with its actor and note.
        raised = [e.alert.id for e in first + rest if e.kind == pb.EVENT_KIND_RAISED]
        self.assertEqual(sorted(raised), sorted(a.id for a in issued))
        acks = [e for e in rest if e.kind == pb.EVENT_KIND_ACKNOWLEDGED]
        self.assertEqual(len(acks), 1)
        self.assertEqual(acks[0].alert.id, ack_target)
        self.assertEqual(acks[0].actor, "py-operator")
        self.assertEqual(acks[0].alert.state, pb.ALERT_STATE_ACKNOWLEDGED)
        self.assertEqual(acks[0].alert.ack.note, "py ack")
        cap = [e for e in first + rest if e.kind == pb.EVENT_KIND_RAISED]
        self.assertTrue(all("urn:oasis:names:tc:emergency:cap:1.2" in e.cap_xml for e in cap))

    def test_batched_replay_equals_single_events(self):
        """max_batch: the backlog comes in EventBatch messages (built by the
        server from pre-serialised bytes) that this independent protobuf
        decodes into exactly the events a plain stream delivers."""
        pb = self.pb
        op = self.stub("operator")
        watcher = self.stub("watcher")
        for i in range(6):
            self.issue(op, "py-batch-%d" % i, 2)
        newest = watcher.ListActive(pb.ListActiveRequest(), metadata=self.md(self.watch_token),
                                    timeout=10).sequence

        stream = self.subscribe(watcher, 0)
        single = self.collect(stream, lambda ev: ev[-1].sequence >= newest)
        stream.cancel()

        stream = watcher.Subscribe(pb.SubscribeRequest(from_sequence=0, max_batch=4),
                                   metadata=self.md(self.watch_token), timeout=30)
        batched, sizes = [], []
        for msg in stream:
            kind = msg.WhichOneof("payload")
            if kind == "batch":
                inner = list(msg.batch.events)
                sizes.append(len(inner))
                self.assertEqual(msg.sequence, inner[-1].sequence)
                for one in inner:
                    self.assertEqual(one.WhichOneof("payload"), "event")
                    self.assertEqual(one.sequence, one.event.sequence)
                    batched.append(one.event)
            elif kind == "event":
                sizes.append(1)
                batched.append(msg.event)
            elif kind == "reset":
                self.fail("unexpected reset: " + msg.reset.message)
            if batched and batched[-1].sequence >= newest:
                break
        stream.cancel()
        self.assertTrue(any(n > 1 for n in sizes), "no batch in a backlog: %s" % sizes)
        self.assertTrue(all(n <= 4 for n in sizes), "batch above max_batch: %s" % sizes)
        self.assertEqual([e.SerializeToString(deterministic=True) for e in batched],
                         [e.SerializeToString(deterministic=True) for e in single])

        # omit_cap_xml: the same events without their CAP XML (identifier kept).
        stream = watcher.Subscribe(
            pb.SubscribeRequest(from_sequence=0, max_batch=4, omit_cap_xml=True),
            metadata=self.md(self.watch_token), timeout=30)
        lean = []
        for msg in stream:
            kind = msg.WhichOneof("payload")
            if kind == "batch":
                lean += [one.event for one in msg.batch.events]
            elif kind == "event":
                lean.append(msg.event)
            if lean and lean[-1].sequence >= newest:
                break
        stream.cancel()
        self.assertTrue(any(e.cap_xml for e in single))
        self.assertTrue(all(e.cap_xml == "" for e in lean))
        for e in single:
            e.cap_xml = ""
        self.assertEqual([e.SerializeToString(deterministic=True) for e in lean],
                         [e.SerializeToString(deterministic=True) for e in single])

    def test_refused_without_token_role_or_certificate(self):
        pb = self.pb
        grpc = self.grpc
        watcher = self.stub("watcher")
        with self.assertRaises(grpc.RpcError) as ctx:
            list(self.subscribe_raw(watcher, []))
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        with self.assertRaises(grpc.RpcError) as ctx:
            watcher.IssueManual(pb.IssueManualRequest(subject="x", level=1, area_id="talstadt"),
                                metadata=self.md(self.watch_token), timeout=10)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        no_cert = self.stub("watcher", with_cert=False)
        with self.assertRaises(grpc.RpcError) as ctx:
            no_cert.ListActive(pb.ListActiveRequest(), metadata=self.md(self.watch_token),
                               timeout=10)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNAVAILABLE)

    def subscribe_raw(self, stub, metadata):
        return stub.Subscribe(self.pb.SubscribeRequest(from_sequence=0), metadata=metadata,
                              timeout=10)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--floodwarn", required=True)
    p.add_argument("--proto-dir", required=True)
    p.add_argument("--source-dir", required=True)
    ARGS, rest = p.parse_known_args()
    try:
        import grpc  # noqa: F401
    except ImportError:
        fail_setup("python3 module grpc missing: install python3-grpcio (scripts/setup), and "
                   "run with /usr/bin/python3, not a pyenv/venv python (%s)" % sys.executable)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
