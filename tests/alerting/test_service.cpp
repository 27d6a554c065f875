// Integration tests of the gRPC AlertService: the real store, engine and
// server on 127.0.0.1:0 with mutual TLS (certificates made by openssl at test
// time). The outbox in the store is the truth the streams are checked against.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "service_harness.hpp"
#include "test_support.hpp"

namespace {

using namespace floodwarn::testing;
using std::chrono::milliseconds;
using std::chrono::seconds;

v1::SubscribeRequest From(std::uint64_t seq) {
  v1::SubscribeRequest r;
  r.set_from_sequence(seq);
  return r;
}

// The stream's events equal the outbox entries, one by one.
void ExpectSameEvents(const std::vector<v1::StreamEvent>& got,
                      const std::vector<fa::AlertEvent>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].sequence(), want[i].sequence);
    EXPECT_EQ(got[i].event().sequence(), want[i].sequence);
    EXPECT_EQ(got[i].event().alert().id(), want[i].alert.id);
    EXPECT_EQ(got[i].event().cap_identifier(), want[i].cap_identifier);
    EXPECT_EQ(got[i].event().cap_xml(), want[i].cap_xml);
    EXPECT_EQ(got[i].event().actor(), want[i].actor);
    if (i > 0) {
      EXPECT_GT(got[i].sequence(), got[i - 1].sequence());
    }
  }
}

TEST(AlertService, SubscriberReceivesCommittedEventsInOrder) {
  ServerHarness h("heartbeat_interval = \"200ms\"");
  h.Start();
  Subscription sub(h.Channel(), kSubscriberToken, From(0));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(h.Issue("pegel-" + std::to_string(i)).id);
  const auto want = h.Outbox();
  ASSERT_GE(want.size(), 5u);
  const auto got = sub.Events(want.size());
  ExpectSameEvents(got, want);
  // Every issued alert was raised on the stream, in issue order.
  std::vector<std::string> raised;
  for (const auto& e : got)
    if (e.event().kind() == v1::EVENT_KIND_RAISED) raised.push_back(e.event().alert().id());
  EXPECT_EQ(raised, ids);
  EXPECT_EQ(got.front().event().alert().state(), v1::ALERT_STATE_ACTIVE);
  EXPECT_EQ(got.front().event().alert().mode(), v1::MODE_EXERCISE);
  EXPECT_NE(got.front().event().cap_xml().find("urn:oasis:names:tc:emergency:cap:1.2"),
            std::string::npos);
}

TEST(AlertService, ResumeReplaysExactlyTheMissedEvents) {
  ServerHarness h("heartbeat_interval = \"200ms\"");
  h.Start();
  for (int i = 0; i < 3; ++i) h.Issue("a" + std::to_string(i));
  std::uint64_t seen = 0;
  {
    Subscription first(h.Channel(), kSubscriberToken, From(0));
    auto got = first.Events(1);
    ASSERT_EQ(got.size(), 1u);
    seen = got[0].sequence();
  }  // disconnected
  for (int i = 0; i < 2; ++i) h.Issue("b" + std::to_string(i));
  const auto want = h.Outbox(seen);
  ASSERT_GE(want.size(), 4u);

  Subscription again(h.Channel(), kSubscriberToken, From(seen));
  ExpectSameEvents(again.Events(want.size()), want);
  // Nothing more: the next message is a heartbeat at the newest sequence.
  v1::StreamEvent next;
  ASSERT_TRUE(again.Next(&next));
  ASSERT_TRUE(next.has_heartbeat()) << next.DebugString();
  EXPECT_EQ(next.heartbeat().sequence(), h.store->LastSequence());
  EXPECT_EQ(next.sequence(), h.store->LastSequence());
}

TEST(AlertService, CatchUpBeyondTheMemoryBufferReadsTheOutbox) {
  ServerHarness h("event_buffer = 16");
  h.Start();
  for (int i = 0; i < 40; ++i) h.Issue("s" + std::to_string(i));
  const auto want = h.Outbox();
  ASSERT_GE(want.size(), 40u);
  Subscription sub(h.Channel(), kSubscriberToken, From(0));
  ExpectSameEvents(sub.Events(want.size()), want);
  EXPECT_GT(h.Metric("floodwarn_outbox_catchup_reads_total"), 0);
}

// Reads a stream with max_batch until `n` events arrived (heartbeats
// skipped), unpacking batches; `sizes` gets the events per message.
std::vector<v1::StreamEvent> BatchedEvents(Subscription& sub, std::size_t n,
                                           std::vector<std::size_t>* sizes) {
  std::vector<v1::StreamEvent> out;
  v1::StreamEvent m;
  while (out.size() < n && sub.Next(&m)) {
    if (m.has_event()) {
      out.push_back(m);
      sizes->push_back(1);
    } else if (m.has_batch()) {
      EXPECT_GE(m.batch().events_size(), 2) << "a batch of one should be a plain event";
      EXPECT_EQ(m.sequence(), m.batch().events().rbegin()->sequence());
      for (const v1::StreamEvent& one : m.batch().events()) {
        EXPECT_TRUE(one.has_event()) << one.DebugString();
        out.push_back(one);
      }
      sizes->push_back(static_cast<std::size_t>(m.batch().events_size()));
    } else {
      EXPECT_TRUE(m.has_heartbeat()) << "unexpected " << m.DebugString();
    }
  }
  return out;
}

v1::SubscribeRequest Batched(std::uint64_t from, std::uint32_t max_batch) {
  v1::SubscribeRequest r = From(from);
  r.set_max_batch(max_batch);
  return r;
}

TEST(AlertService, BatchesCarryTheBacklogInOrderExactlyOnce) {
  ServerHarness h("heartbeat_interval = \"200ms\"");
  h.Start();
  for (int i = 0; i < 30; ++i) h.Issue("b" + std::to_string(i), 1 + i % 4);
  const auto want = h.Outbox();
  ASSERT_GE(want.size(), 30u);

  // The whole backlog is ready when the stream starts: batches of at most 8.
  Subscription sub(h.Channel(), kSubscriberToken, Batched(0, 8));
  std::vector<std::size_t> sizes;
  ExpectSameEvents(BatchedEvents(sub, want.size(), &sizes), want);
  EXPECT_EQ(*std::max_element(sizes.begin(), sizes.end()), 8u);
  EXPECT_LT(sizes.size(), want.size());
  EXPECT_GT(h.Metric("floodwarn_subscriber_messages_total{type=\"batch\"}"), 0);

  // Events committed while the stream is open still arrive, in order.
  h.Issue("later");
  const auto later = h.Outbox(want.back().sequence);
  ExpectSameEvents(BatchedEvents(sub, later.size(), &sizes), later);

  // Without max_batch: never a batch, one event per message.
  Subscription plain(h.Channel(), kSubscriberToken, From(0));
  v1::StreamEvent m;
  for (std::size_t got = 0; got < want.size() && plain.Next(&m);) {
    ASSERT_FALSE(m.has_batch());
    if (m.has_event()) ++got;
  }
}

TEST(AlertService, OmitCapXmlSendsEverythingButTheCapXml) {
  ServerHarness h("heartbeat_interval = \"200ms\"");
  h.Start();
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(h.Issue("o" + std::to_string(i)).id);
  // An acknowledgement: an event without CAP XML in the first place.
  ASSERT_TRUE(h.engine->Acknowledge(ids[0], "op", "gesehen").ok());
  auto want = h.Outbox();
  ASSERT_GE(want.size(), 7u);
  std::size_t with_cap = 0;
  for (auto& e : want) {
    if (!e.cap_xml.empty()) ++with_cap;
    e.cap_xml.clear();  // what the stream must send; cap_identifier stays
  }
  ASSERT_GE(with_cap, 6u);
  for (std::uint32_t max_batch : {1u, 4u}) {
    SCOPED_TRACE(max_batch);
    v1::SubscribeRequest req = Batched(0, max_batch);
    req.set_omit_cap_xml(true);
    Subscription sub(h.Channel(), kSubscriberToken, req);
    std::vector<std::size_t> sizes;
    const auto got = BatchedEvents(sub, want.size(), &sizes);
    ExpectSameEvents(got, want);  // cap_identifier as stored, cap_xml empty
  }
  // The same server still sends the CAP XML to a subscriber that did not opt out.
  Subscription full(h.Channel(), kSubscriberToken, From(0));
  ExpectSameEvents(full.Events(want.size()), h.Outbox());
}

TEST(AlertService, BatchesHoldOnlyMatchingEventsAndReadTheOutbox) {
  // A ring of 16 events: most of the backlog comes from the store's outbox.
  ServerHarness h("event_buffer = 16\nheartbeat_interval = \"200ms\"");
  h.Start();
  for (int i = 0; i < 60; ++i) h.Issue("f" + std::to_string(i), 1 + i % 4);
  std::vector<fa::AlertEvent> want;
  for (const auto& e : h.Outbox())
    if (e.alert.level >= 3) want.push_back(e);
  ASSERT_GE(want.size(), 30u);

  v1::SubscribeRequest req = Batched(0, 256);
  req.mutable_filter()->set_min_level(3);
  Subscription sub(h.Channel(), kSubscriberToken, req);
  std::vector<std::size_t> sizes;
  ExpectSameEvents(BatchedEvents(sub, want.size(), &sizes), want);
  EXPECT_GT(*std::max_element(sizes.begin(), sizes.end()), 1u);
  EXPECT_GT(h.Metric("floodwarn_outbox_catchup_reads_total"), 0);
}

TEST(AlertService, BatchesStayWithinTheClientsDefaultMessageLimit) {
  // ~160 kB per event (long texts, twice: in the alert and in its CAP XML):
  // the backlog is more than gRPC's default 4 MiB receive limit, so one
  // batch of it would end the stream with RESOURCE_EXHAUSTED.
  ServerHarness h("heartbeat_interval = \"200ms\"");
  h.Start();
  for (int i = 0; i < 30; ++i) h.Issue("big" + std::to_string(i), 2, "talstadt", 20000);
  const auto want = h.Outbox();
  std::size_t largest = 0, total = 0;
  for (const auto& e : want) {
    largest = std::max(largest, e.cap_xml.size() + 80000);
    total += e.cap_xml.size() + 80000;
  }
  ASSERT_GT(total, std::size_t{4} << 20);

  Subscription sub(h.Channel(), kSubscriberToken, Batched(0, 256));
  std::vector<v1::StreamEvent> got;
  v1::StreamEvent m;
  std::size_t batches = 0;
  while (got.size() < want.size() && sub.Next(&m)) {
    if (m.has_event()) got.push_back(m);
    if (!m.has_batch()) continue;
    ++batches;
    // The server stops a batch once it holds 1 MiB: at most one event more.
    EXPECT_LE(m.ByteSizeLong(), (std::size_t{1} << 20) + 2 * largest);
    for (const auto& one : m.batch().events()) got.push_back(one);
  }
  ExpectSameEvents(got, want);
  EXPECT_GT(batches, 0u);
}

TEST(AlertService, FromSequenceOlderThanRetentionGetsReset) {
  ServerHarness h("heartbeat_interval = \"200ms\"");
  for (int i = 0; i < 4; ++i) h.Issue("r" + std::to_string(i));
  // Everything but the newest event is past retention a month from now.
  ASSERT_GT(h.store->Compact(std::chrono::time_point_cast<fa::Duration>(fa::Clock::now()) +
                             std::chrono::hours(24 * 30)),
            0u);
  const std::uint64_t first = h.store->FirstRetainedSequence();
  const std::uint64_t last = h.store->LastSequence();
  ASSERT_GT(first, 1u);
  h.Start();

  Subscription sub(h.Channel(), kSubscriberToken, From(0));
  v1::StreamEvent m;
  ASSERT_TRUE(sub.Next(&m));
  ASSERT_TRUE(m.has_reset()) << m.DebugString();
  EXPECT_EQ(m.reset().reason(), v1::RESET_REASON_COMPACTED);
  EXPECT_EQ(m.reset().oldest_retained_sequence(), first);
  EXPECT_EQ(m.reset().current_sequence(), last);
  EXPECT_EQ(m.sequence(), last);
  // The stream continues after the reset with new events only.
  const std::string id = h.Issue("after-reset").id;
  const auto next = sub.Events(1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_GT(next[0].sequence(), last);
  EXPECT_EQ(next[0].event().alert().id(), id);

  // A resume point just before the oldest retained event is still complete.
  Subscription ok(h.Channel(), kSubscriberToken, From(first - 1));
  ExpectSameEvents(ok.Events(h.Outbox(first - 1).size()), h.Outbox(first - 1));

  // A cursor from another database (beyond the newest event) is reset too.
  Subscription ahead(h.Channel(), kSubscriberToken, From(h.store->LastSequence() + 100));
  ASSERT_TRUE(ahead.Next(&m));
  ASSERT_TRUE(m.has_reset());
  EXPECT_EQ(m.reset().reason(), v1::RESET_REASON_AHEAD);
  EXPECT_EQ(m.reset().current_sequence(), h.store->LastSequence());
}

TEST(AlertService, HeartbeatsArriveOnAnIdleStream) {
  ServerHarness h("heartbeat_interval = \"200ms\"");
  h.Issue("x");
  h.Start();
  const std::uint64_t last = h.store->LastSequence();
  Subscription sub(h.Channel(), kSubscriberToken, From(last));
  v1::StreamEvent m;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(sub.Next(&m));
    ASSERT_TRUE(m.has_heartbeat()) << m.DebugString();
    EXPECT_EQ(m.heartbeat().sequence(), last);
    EXPECT_EQ(m.heartbeat().last_committed_sequence(), last);
    const auto now =
        std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    EXPECT_NEAR(static_cast<double>(m.heartbeat().server_time().seconds()),
                static_cast<double>(now), 60.0);
  }
}

TEST(AlertService, FilterSelectsAreaAndLevelButNeverHidesTheAllClear) {
  ServerHarness h;
  h.Start();
  v1::SubscribeRequest req = From(0);
  req.mutable_filter()->add_area_ids("unterstadt");
  req.mutable_filter()->set_min_level(3);
  Subscription sub(h.Channel(), kSubscriberToken, req);
  h.Issue("other-area", 4, "talstadt");
  h.Issue("low", 2, "unterstadt");
  const fa::Alert high = h.Issue("high", 3, "unterstadt");
  auto res = h.engine->ResolveManual(high.id, "test-operator", "water falling");
  ASSERT_TRUE(res.ok()) << res.error.message;
  const auto got = sub.Events(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].event().alert().id(), high.id);
  EXPECT_EQ(got[0].event().kind(), v1::EVENT_KIND_RAISED);
  EXPECT_EQ(got[1].event().alert().id(), high.id);
  EXPECT_EQ(got[1].event().kind(), v1::EVENT_KIND_RESOLVED);
}

TEST(AlertService, ListActiveReturnsTheSequenceItIsConsistentWith) {
  ServerHarness h;
  h.Start();
  h.Issue("l1", 2, "talstadt");
  h.Issue("l2", 3, "unterstadt");
  auto stub = h.Stub();
  grpc::ClientContext ctx;
  AddToken(ctx, kSubscriberToken);
  v1::ListActiveRequest req;
  v1::ListActiveResponse resp;
  ASSERT_TRUE(stub->ListActive(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.alerts_size(), 2);
  EXPECT_EQ(resp.sequence(), h.store->LastSequence());

  grpc::ClientContext ctx2;
  AddToken(ctx2, kSubscriberToken);
  req.mutable_filter()->add_area_ids("unterstadt");
  ASSERT_TRUE(stub->ListActive(&ctx2, req, &resp).ok());
  ASSERT_EQ(resp.alerts_size(), 1);
  EXPECT_EQ(resp.alerts(0).area().id(), "unterstadt");
}

// Issue #12: every rule's state over the API, so that a console shows
// "unknown" and why (a forecast that failed, a gauge with no data), never a
// quiet "nothing".
TEST(AlertService, ListRuleStatesShowsUnknownAndWhy) {
  ServerHarness h;
  h.Start();
  h.engine->OnForecastUnavailable("20261122T0800Z", fa::TimePoint{},
                                  "the model blew up in cell (3, 4)");
  auto stub = h.Stub();
  grpc::ClientContext ctx;
  AddToken(ctx, kSubscriberToken);
  v1::ListRuleStatesResponse resp;
  ASSERT_TRUE(stub->ListRuleStates(&ctx, v1::ListRuleStatesRequest(), &resp).ok());
  // town_rules.toml: one forecast rule for the underpass, one for the school
  // and the hospital, and the gauge rules of talstadt_pegel / talstadt_regen.
  int forecasts = 0, gauges = 0;
  for (const v1::RuleState& r : resp.states()) {
    SCOPED_TRACE(r.rule_id() + "/" + r.subject());
    EXPECT_EQ(r.condition(), v1::RULE_CONDITION_UNKNOWN) << "no data yet: unknown, not clear";
    EXPECT_FALSE(r.reason().empty());
    if (r.kind() == v1::RULE_KIND_FORECAST_DEPTH) {
      ++forecasts;
      EXPECT_NE(r.reason().find("blew up in cell (3, 4)"), std::string::npos) << r.reason();
    } else {
      ++gauges;
    }
  }
  EXPECT_EQ(forecasts, 3);  // underpass, school, hospital
  EXPECT_GE(gauges, 3);
  // Without a token: refused.
  grpc::ClientContext anon;
  EXPECT_EQ(stub->ListRuleStates(&anon, v1::ListRuleStatesRequest(), &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST(AlertService, TokensAndRolesAreEnforced) {
  ServerHarness h;
  h.Start();
  const fa::Alert a = h.Issue("auth");
  auto stub = h.Stub();
  v1::ListActiveRequest list;
  v1::ListActiveResponse listed;
  {
    grpc::ClientContext ctx;  // no token
    EXPECT_EQ(stub->ListActive(&ctx, list, &listed).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    AddToken(ctx, "not-a-configured-token");
    EXPECT_EQ(stub->ListActive(&ctx, list, &listed).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    Subscription sub(h.Channel(), "", From(0));
    v1::StreamEvent m;
    EXPECT_FALSE(sub.Next(&m));
    EXPECT_EQ(sub.Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  v1::AcknowledgeRequest ack;
  ack.set_alert_id(a.id);
  ack.set_note("seen");
  v1::Alert out;
  {
    grpc::ClientContext ctx;
    AddToken(ctx, kSubscriberToken);
    EXPECT_EQ(stub->Acknowledge(&ctx, ack, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(h.engine->GetAlert(a.id)->state, fa::AlertState::kActive);  // no effect
  bool audited = false;
  for (const auto& e : h.store->ReadAudit(0, 100000))
    if (e.action == "permission-denied" && e.actor == kSubscriberPrincipal) audited = true;
  EXPECT_TRUE(audited);
  {
    grpc::ClientContext ctx;
    AddToken(ctx, kOperatorToken);
    const grpc::Status st = stub->Acknowledge(&ctx, ack, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  EXPECT_EQ(out.state(), v1::ALERT_STATE_ACKNOWLEDGED);
  EXPECT_EQ(out.ack().by(), kOperatorPrincipal);  // the principal is the actor
  EXPECT_EQ(out.ack().note(), "seen");
  EXPECT_EQ(h.Metric("floodwarn_auth_failures_total{reason=\"missing_token\"}"), 2);
  EXPECT_EQ(h.Metric("floodwarn_auth_failures_total{reason=\"permission_denied\"}"), 1);
}

TEST(AlertService, TlsRequiresAClientCertificateFromTheConfiguredCa) {
  ServerHarness h;
  h.Start();
  auto call = [&](std::shared_ptr<grpc::Channel> ch) {
    auto stub = v1::AlertService::NewStub(ch);
    grpc::ClientContext ctx;
    AddToken(ctx, kSubscriberToken);
    ctx.set_deadline(std::chrono::system_clock::now() + seconds(10));
    v1::ListActiveResponse resp;
    return stub->ListActive(&ctx, v1::ListActiveRequest(), &resp);
  };
  EXPECT_TRUE(call(h.Channel(true)).ok());
  EXPECT_EQ(call(h.Channel(false)).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(call(h.Channel(true, true)).error_code(), grpc::StatusCode::UNAVAILABLE);
  // Plaintext against the TLS port fails as well.
  EXPECT_EQ(call(grpc::CreateChannel(h.target, grpc::InsecureChannelCredentials())).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST(AlertService, InsecureModeStillRequiresTokens) {
  ServerHarness h("", /*tls=*/false);
  ASSERT_TRUE(h.cfg.insecure);
  h.Start();
  auto stub = h.Stub();
  v1::ListActiveResponse resp;
  grpc::ClientContext anon;
  EXPECT_EQ(stub->ListActive(&anon, v1::ListActiveRequest(), &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext ctx;
  AddToken(ctx, kSubscriberToken);
  EXPECT_TRUE(stub->ListActive(&ctx, v1::ListActiveRequest(), &resp).ok());
}

TEST(AlertService, BadInputGetsTheRightStatusAndChangesNothing) {
  ServerHarness h;
  h.Start();
  const fa::Alert a = h.Issue("input");
  const std::uint64_t last = h.store->LastSequence();
  auto stub = h.Stub();
  auto op = [](grpc::ClientContext& c) { AddToken(c, kOperatorToken); };
  v1::Alert alert;
  auto get = [&](const std::string& id) {
    grpc::ClientContext ctx;
    op(ctx);
    v1::GetAlertRequest r;
    r.set_alert_id(id);
    return stub->GetAlert(&ctx, r, &alert).error_code();
  };
  EXPECT_EQ(get(""), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(get("bad id; drop"), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(get(std::string(200, 'a')), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(get("fw.no-such-alert"), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(get(a.id), grpc::StatusCode::OK);
  EXPECT_EQ(alert.id(), a.id);

  auto ack = [&](const std::string& id, const std::string& note) {
    grpc::ClientContext ctx;
    op(ctx);
    v1::AcknowledgeRequest r;
    r.set_alert_id(id);
    r.set_note(note);
    return stub->Acknowledge(&ctx, r, &alert).error_code();
  };
  EXPECT_EQ(ack("fw.no-such-alert", ""), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ack(a.id, std::string(2000, 'n')), grpc::StatusCode::INVALID_ARGUMENT);
  // Larger than max_message_bytes (64 KiB): refused by gRPC before any handler.
  EXPECT_EQ(ack(a.id, std::string(100 * 1024, 'n')), grpc::StatusCode::RESOURCE_EXHAUSTED);

  {
    grpc::ClientContext ctx;
    op(ctx);
    v1::ListActiveRequest r;
    r.mutable_filter()->set_min_level(9);
    v1::ListActiveResponse resp;
    EXPECT_EQ(stub->ListActive(&ctx, r, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    op(ctx);
    v1::SilenceRequest r;
    r.set_alert_id(a.id);
    r.set_station_id("talstadt_pegel");
    r.set_reason("two targets");
    r.mutable_expires()->set_seconds(std::time(nullptr) + 3600);
    v1::Silence s;
    EXPECT_EQ(stub->Silence(&ctx, r, &s).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    op(ctx);
    v1::IssueManualRequest r;
    r.set_subject("x");
    r.set_level(5);
    r.set_area_id("talstadt");
    EXPECT_EQ(stub->IssueManual(&ctx, r, &alert).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    v1::SubscribeRequest r = From(0);
    for (int i = 0; i < 300; ++i) r.mutable_filter()->add_area_ids("a" + std::to_string(i));
    Subscription sub(h.Channel(), kSubscriberToken, r);
    v1::StreamEvent m;
    EXPECT_FALSE(sub.Next(&m));
    EXPECT_EQ(sub.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_EQ(h.store->LastSequence(), last);  // nothing was committed
  EXPECT_EQ(h.engine->GetAlert(a.id)->state, fa::AlertState::kActive);
}

// A client that opens a stream and never reads: its writes stop at the HTTP/2
// flow-control window; the other subscriber gets every event meanwhile, and
// the stalled one later gets all of them from the outbox, in order.
TEST(AlertService, SubscriberThatNeverReadsDelaysNobody) {
  ServerHarness h("event_buffer = 16\nstall_timeout = \"10m\"");
  h.Start();
  grpc::ChannelArguments small_window;
  small_window.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  small_window.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024);
  Subscription stalled(h.Channel(true, false, small_window), kSubscriberToken, From(0));
  Subscription reader(h.Channel(), kSubscriberToken, From(0));
  ASSERT_TRUE(WaitFor([&] { return h.server->subscriber_count() == 2; }));

  constexpr int kAlerts = 60;  // ~60 KiB each (texts + CAP XML): several MiB in all
  for (int i = 0; i < kAlerts; ++i) h.Issue("big" + std::to_string(i), 2, "talstadt", 6000);
  const auto want = h.Outbox();
  ExpectSameEvents(reader.Events(want.size()), want);
  // The stalled stream took only what fits its window, and is still connected.
  const double written = h.Metric("floodwarn_subscriber_messages_total{type=\"event\"}");
  EXPECT_LT(written, 2.0 * static_cast<double>(want.size()));
  EXPECT_EQ(h.server->subscriber_count(), 2u);

  ExpectSameEvents(stalled.Events(want.size()), want);
  EXPECT_GT(h.Metric("floodwarn_outbox_catchup_reads_total"), 0);
}

TEST(AlertService, StalledSubscriberIsDisconnectedAfterTheStallTimeout) {
  ServerHarness h("event_buffer = 16\nstall_timeout = \"1s\"\nheartbeat_interval = \"200ms\"");
  h.Start();
  grpc::ChannelArguments small_window;
  small_window.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  small_window.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024);
  Subscription stalled(h.Channel(true, false, small_window), kSubscriberToken, From(0));
  ASSERT_TRUE(WaitFor([&] { return h.server->subscriber_count() == 1; }));
  for (int i = 0; i < 60; ++i) h.Issue("big" + std::to_string(i), 2, "talstadt", 6000);
  EXPECT_TRUE(WaitFor([&] { return h.server->subscriber_count() == 0; }, milliseconds(15000)));
  EXPECT_EQ(h.Metric("floodwarn_subscribers_dropped_total{reason=\"stalled\"}"), 1);
}

// grpc.health.v1.Health/Check by hand: request {service}, response {status = SERVING (1)}.
TEST(AlertService, HealthServiceReportsServing) {
  ServerHarness h;
  h.Start();
  grpc::GenericStub stub(h.Channel());
  for (const std::string service : {"", "floodwarn.v1.AlertService"}) {
    SCOPED_TRACE(service);
    std::string req;
    if (!service.empty()) {
      req.push_back(0x0a);  // field 1, length-delimited
      req.push_back(static_cast<char>(service.size()));
      req += service;
    }
    grpc::Slice slice(req);
    grpc::ByteBuffer in(&slice, 1), out;
    grpc::ClientContext ctx;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status st;
    stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &in, &out,
                   [&](grpc::Status s) {
                     std::lock_guard<std::mutex> lock(mu);
                     st = std::move(s);
                     done = true;
                     cv.notify_one();
                   });
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, seconds(10), [&] { return done; }));
    ASSERT_TRUE(st.ok()) << st.error_message();
    std::vector<grpc::Slice> slices;
    ASSERT_TRUE(out.Dump(&slices).ok());
    std::string bytes;
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING
  }
}

// grpc.reflection.v1alpha.ServerReflection: list_services must name ours.
class ReflectionCall : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit ReflectionCall(grpc::GenericStub& stub) {
    const std::string req("\x3a\x00", 2);  // field 7 list_services = ""
    grpc::Slice slice(req);
    request_ = grpc::ByteBuffer(&slice, 1);
    stub.PrepareBidiStreamingCall(&ctx_,
                                  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                  grpc::StubOptions(), this);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnWriteDone(bool) override { StartWritesDone(); }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    std::vector<grpc::Slice> slices;
    if (response_.Dump(&slices).ok())
      for (const auto& s : slices)
        bytes_.append(reinterpret_cast<const char*>(s.begin()), s.size());
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& s) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = s;
    done_ = true;
    cv_.notify_one();
  }
  bool Wait(std::string* bytes, grpc::Status* st) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, seconds(10), [&] { return done_; })) return false;
    *bytes = bytes_;
    *st = status_;
    return true;
  }

 private:
  grpc::ClientContext ctx_;
  grpc::ByteBuffer request_, response_;
  std::string bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  grpc::Status status_;
};

TEST(AlertService, ReflectionListsTheAlertService) {
  ServerHarness h;
  h.Start();
  grpc::GenericStub stub(h.Channel());
  ReflectionCall call(stub);
  std::string bytes;
  grpc::Status st;
  ASSERT_TRUE(call.Wait(&bytes, &st));
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_NE(bytes.find("floodwarn.v1.AlertService"), std::string::npos);
  EXPECT_NE(bytes.find("grpc.health.v1.Health"), std::string::npos);
}

TEST(AlertService, MetricsAreScrapedOverHttp) {
  ServerHarness h("heartbeat_interval = \"400ms\"");
  h.Start();
  fa::MetricsEndpoint endpoint("127.0.0.1:0", h.registry);
  ASSERT_GT(endpoint.port(), 0);
  Subscription sub(h.Channel(), kSubscriberToken, From(0));
  ASSERT_TRUE(WaitFor([&] { return h.server->subscriber_count() == 1; }));
  h.Issue("metrics", 3, "unterstadt");
  ASSERT_EQ(sub.Events(1).size(), 1u);
  {
    auto stub = h.Stub();
    grpc::ClientContext ctx;
    AddToken(ctx, kSubscriberToken);
    v1::ListActiveResponse resp;
    ASSERT_TRUE(stub->ListActive(&ctx, v1::ListActiveRequest(), &resp).ok());
  }
  httplib::Client http("127.0.0.1", endpoint.port());
  std::string body;
  // The open-alert gauges are refreshed every few seconds.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto res = http.Get("/metrics");
        if (!res || res->status != 200) return false;
        body = res->body;
        return body.find("floodwarn_alerts{level=\"3\",state=\"active\"} 1") != std::string::npos;
      },
      milliseconds(15000)))
      << body;
  EXPECT_NE(body.find("floodwarn_grpc_requests_total{code=\"OK\",method=\"ListActive\"} 1"),
            std::string::npos);
  EXPECT_NE(body.find("floodwarn_alert_events_total{kind=\"raised\"} 1"), std::string::npos);
  EXPECT_NE(body.find("floodwarn_subscribers 1"), std::string::npos);
  // Delivery lags reach the histogram in batches, at the latest on the
  // stream's next timer tick (heartbeat_interval / 4).
  ASSERT_TRUE(WaitFor(
      [&] {
        auto res = http.Get("/metrics");
        body = res ? res->body : "";
        return body.find("floodwarn_delivery_lag_seconds_count 1\n") != std::string::npos;
      },
      milliseconds(5000)))
      << body;
  EXPECT_NE(body.find("floodwarn_delivery_lag_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos)
      << body;
}

}  // namespace

namespace {

TEST(AlertService, ShutdownEndsOpenStreamsWithUnavailable) {
  ServerHarness h("heartbeat_interval = \"200ms\"");
  h.Start();
  Subscription sub(h.Channel(), kSubscriberToken, From(0));
  ASSERT_TRUE(WaitFor([&] { return h.server->subscriber_count() == 1; }));
  h.Stop();
  v1::StreamEvent m;
  while (sub.Next(&m)) {
  }
  EXPECT_EQ(sub.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(h.Metric("floodwarn_subscribers_dropped_total{reason=\"shutdown\"}"), 1);
}

}  // namespace

namespace {

// Commits from several threads at once: the commit listener may run out of
// order, and three fan-out threads each wake their share of the streams;
// every subscriber still sees exactly the outbox, in order, no gaps.
TEST(AlertService, ConcurrentCommitsReachEverySubscriberInOrder) {
  ServerHarness h("event_buffer = 64\nfanout_threads = 3");
  h.Start();
  std::vector<std::unique_ptr<Subscription>> subs;
  for (int i = 0; i < 7; ++i)
    subs.push_back(std::make_unique<Subscription>(h.Channel(), kSubscriberToken, From(0)));
  ASSERT_TRUE(WaitFor([&] { return h.server->subscriber_count() == 7; }));
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&h, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string subject = "t" + std::to_string(t) + "-" + std::to_string(i);
        h.Issue(subject);
        if (i % 5 == 0) {
          fa::ManualAlertRequest r;  // an engine refusal commits nothing
          r.subject = subject;
          r.level = 9;
          h.engine->IssueManual(r, "test-operator");
        }
      }
    });
  for (auto& w : writers) w.join();
  const auto want = h.Outbox();
  ASSERT_GE(want.size(), 100u);
  for (std::size_t k = 0; k < want.size(); ++k) ASSERT_EQ(want[k].sequence, k + 1);  // contiguous
  for (auto& s : subs) ExpectSameEvents(s->Events(want.size()), want);
}

// Streams that come and go while events are committed never make another
// stream miss its wakeup: with heartbeats a minute apart, a missed wakeup
// would hold that stream's events back past the 20 s deadline.
TEST(AlertService, SubscribersComingAndGoingDelayNobody) {
  ServerHarness h("fanout_threads = 3\nheartbeat_interval = \"60s\"");
  h.Start();
  std::vector<std::unique_ptr<Subscription>> steady;
  for (int i = 0; i < 6; ++i)
    steady.push_back(
        std::make_unique<Subscription>(h.Channel(), kSubscriberToken, From(0), seconds(20)));
  ASSERT_TRUE(WaitFor([&] { return h.server->subscriber_count() == 6; }));
  std::atomic<bool> stop{false};
  std::atomic<int> churned{0};
  std::thread churn([&] {
    const auto channel = h.Channel();
    while (!stop) {
      Subscription s(channel, kSubscriberToken, From(0), seconds(5));
      std::this_thread::sleep_for(milliseconds(3));
      s.Cancel();
      ++churned;
    }
  });
  for (int i = 0; i < 40; ++i) {
    h.Issue("churn-" + std::to_string(i));
    std::this_thread::sleep_for(milliseconds(5));
  }
  stop = true;
  churn.join();
  EXPECT_GT(churned.load(), 5);
  const auto want = h.Outbox();
  ASSERT_EQ(want.size(), 40u);
  for (auto& s : steady) ExpectSameEvents(s->Events(want.size()), want);
}

// A token bound to a client certificate's CN is refused with another one.
TEST(AlertService, TokenBoundToAnotherCertificateIsRefused) {
  const std::string bound = "bound-token-5e7a";
  ServerHarness h("", true,
                  "[[auth.tokens]]\nprincipal = \"console-2\"\nrole = \"subscriber\"\nsha256 = \"" +
                      fa::TokenSha256Hex(bound) + "\"\nclient_cn = \"console-2\"\n\n" +
                      "[[auth.tokens]]\nprincipal = \"siren-bound\"\nrole = \"subscriber\"\n"
                      "sha256 = \"" +
                      fa::TokenSha256Hex(bound + "-ok") + "\"\nclient_cn = \"siren-1\"\n");
  h.Start();
  auto stub = h.Stub();
  v1::ListActiveResponse resp;
  grpc::ClientContext wrong;
  AddToken(wrong, bound);  // our client certificate says CN=siren-1
  EXPECT_EQ(stub->ListActive(&wrong, v1::ListActiveRequest(), &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext right;
  AddToken(right, bound + "-ok");
  EXPECT_TRUE(stub->ListActive(&right, v1::ListActiveRequest(), &resp).ok());
}

}  // namespace

namespace {

TEST(AlertService, SubscribersBeyondTheLimitAreRefused) {
  ServerHarness h("max_subscribers = 2");
  h.Start();
  Subscription a(h.Channel(), kSubscriberToken, From(0));
  Subscription b(h.Channel(), kSubscriberToken, From(0));
  ASSERT_TRUE(WaitFor([&] { return h.server->subscriber_count() == 2; }));
  Subscription c(h.Channel(), kSubscriberToken, From(0));
  v1::StreamEvent m;
  EXPECT_FALSE(c.Next(&m));
  EXPECT_EQ(c.Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The admitted ones are unaffected.
  const std::string id = h.Issue("limit").id;
  const auto got = a.Events(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event().alert().id(), id);
}

}  // namespace
