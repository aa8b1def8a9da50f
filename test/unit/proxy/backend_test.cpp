#include "proxy/backend.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace rws::proxy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Circuit = Backend::Circuit;

// Every test works on explicit time points; nothing sleeps.
const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1000);

Backend make_backend(std::string host = "10.0.0.1", std::uint16_t port = 8080) {
  config::Backend address;
  address.host = std::move(host);
  address.port = port;
  address.url = address.host + ":" + std::to_string(port);
  address.weight = 2;
  return Backend("api", address);
}

config::PassiveHealth passive(unsigned max_fails, seconds window, seconds eject) {
  config::PassiveHealth p;
  p.max_fails = max_fails;
  p.fail_window = window;
  p.eject = eject;
  return p;
}

config::CircuitBreaker breaker(unsigned threshold, seconds recovery, unsigned probes) {
  config::CircuitBreaker b;
  b.failure_threshold = threshold;
  b.recovery = recovery;
  b.max_half_open_probes = probes;
  return b;
}

// ----- identity ---------------------------------------------------------------------------------

TEST(Backend, Identity) {
  Backend b = make_backend();
  EXPECT_EQ(b.upstream(), "api");
  EXPECT_EQ(b.url(), "10.0.0.1:8080");
  EXPECT_EQ(b.host(), "10.0.0.1");
  EXPECT_EQ(b.port(), 8080);
  EXPECT_EQ(b.weight(), 2u);
  b.set_weight(5);
  EXPECT_EQ(b.weight(), 5u);
}

TEST(Backend, AuthorityBracketsIpv6AndOmitsPort80) {
  EXPECT_EQ(make_backend("10.0.0.1", 8080).authority(), "10.0.0.1:8080");
  EXPECT_EQ(make_backend("example.com", 80).authority(), "example.com");
  EXPECT_EQ(make_backend("::1", 8080).authority(), "[::1]:8080");
  EXPECT_EQ(make_backend("2001:db8::1", 80).authority(), "[2001:db8::1]");
}

TEST(Backend, LatencyIsAMovingAverage) {
  Backend b = make_backend();
  EXPECT_EQ(b.latency_us(), 0.0);
  b.record_latency(std::chrono::microseconds(1000));
  EXPECT_DOUBLE_EQ(b.latency_us(), 1000.0);  // the first sample is taken as is
  b.record_latency(std::chrono::microseconds(2000));
  EXPECT_DOUBLE_EQ(b.latency_us(), 1200.0);  // then alpha 0.2
}

// ----- passive ejection -------------------------------------------------------------------------

TEST(PassiveEjection, EjectsAfterMaxFailsWithinTheWindow) {
  Backend b = make_backend();
  const config::PassiveHealth p = passive(3, seconds(10), seconds(30));
  b.record_failure(p, kT0);
  b.record_failure(p, kT0 + seconds(1));
  EXPECT_FALSE(b.ejected(kT0 + seconds(1)));
  EXPECT_TRUE(b.available(nullptr, kT0 + seconds(1)));
  b.record_failure(p, kT0 + seconds(2));
  EXPECT_TRUE(b.ejected(kT0 + seconds(2)));
  EXPECT_FALSE(b.available(nullptr, kT0 + seconds(2)));
}

TEST(PassiveEjection, EjectionExpires) {
  Backend b = make_backend();
  const config::PassiveHealth p = passive(2, seconds(10), seconds(30));
  b.record_failure(p, kT0);
  b.record_failure(p, kT0 + seconds(5));  // ejected until kT0 + 35s
  EXPECT_TRUE(b.ejected(kT0 + seconds(5)));
  EXPECT_TRUE(b.ejected(kT0 + seconds(34)));
  EXPECT_TRUE(b.ejected(kT0 + seconds(35) - milliseconds(1)));
  EXPECT_FALSE(b.ejected(kT0 + seconds(35)));
  EXPECT_FALSE(b.ejected(kT0 + seconds(100)));
  EXPECT_TRUE(b.available(nullptr, kT0 + seconds(35)));
}

TEST(PassiveEjection, FailuresOutsideTheWindowDoNotCount) {
  Backend b = make_backend();
  const config::PassiveHealth p = passive(3, seconds(10), seconds(30));
  b.record_failure(p, kT0);
  b.record_failure(p, kT0 + seconds(6));
  b.record_failure(p, kT0 + seconds(12));  // the first one is 12 s old: two in the window
  EXPECT_FALSE(b.ejected(kT0 + seconds(12)));
  b.record_failure(p, kT0 + seconds(14));  // 6, 12 and 14 are within 10 s
  EXPECT_TRUE(b.ejected(kT0 + seconds(14)));
}

TEST(PassiveEjection, SparseFailuresNeverEject) {
  Backend b = make_backend();
  const config::PassiveHealth p = passive(3, seconds(10), seconds(30));
  for (int i = 0; i < 50; ++i) {
    b.record_failure(p, kT0 + seconds(6 * i));  // at most two in any 10 s
    ASSERT_FALSE(b.ejected(kT0 + seconds(6 * i))) << i;
  }
}

TEST(PassiveEjection, HistoryStartsAfreshAfterAnEjection) {
  Backend b = make_backend();
  const config::PassiveHealth p = passive(2, seconds(60), seconds(10));
  b.record_failure(p, kT0);
  b.record_failure(p, kT0 + seconds(1));  // ejected until kT0 + 11s
  ASSERT_TRUE(b.ejected(kT0 + seconds(1)));
  // After the ejection ends, one failure alone (the earlier ones were consumed) is not enough.
  b.record_failure(p, kT0 + seconds(12));
  EXPECT_FALSE(b.ejected(kT0 + seconds(12)));
  b.record_failure(p, kT0 + seconds(13));
  EXPECT_TRUE(b.ejected(kT0 + seconds(13)));
  EXPECT_FALSE(b.ejected(kT0 + seconds(23)));
}

TEST(PassiveEjection, DisabledNeverEjects) {
  Backend b = make_backend();
  config::PassiveHealth p = passive(1, seconds(10), seconds(30));
  p.enabled = false;
  for (int i = 0; i < 10; ++i)
    b.record_failure(p, kT0 + milliseconds(i));
  EXPECT_FALSE(b.ejected(kT0 + milliseconds(10)));
  EXPECT_TRUE(b.available(nullptr, kT0 + milliseconds(10)));
}

TEST(Backend, UnhealthyIsNotAvailable) {
  Backend b = make_backend();
  const config::CircuitBreaker cb = breaker(3, seconds(30), 1);
  EXPECT_TRUE(b.available(nullptr, kT0));
  EXPECT_TRUE(b.available(&cb, kT0));
  b.healthy = false;
  EXPECT_FALSE(b.available(nullptr, kT0));
  EXPECT_FALSE(b.available(&cb, kT0));
  b.healthy = true;
  EXPECT_TRUE(b.available(nullptr, kT0));
}

// ----- circuit breaker --------------------------------------------------------------------------

TEST(CircuitBreaker, WithoutABreakerEverythingIsAdmitted) {
  Backend b = make_backend();
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(b.admit(nullptr, kT0));
    b.on_result(nullptr, false, kT0);
  }
  EXPECT_EQ(b.circuit(), Circuit::kClosed);
}

TEST(CircuitBreaker, OpensAfterThresholdConsecutiveFailures) {
  Backend b = make_backend();
  const config::CircuitBreaker cb = breaker(3, seconds(30), 1);
  EXPECT_EQ(b.circuit(), Circuit::kClosed);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.admit(&cb, kT0));
    b.on_result(&cb, false, kT0);
  }
  EXPECT_EQ(b.circuit(), Circuit::kClosed);
  ASSERT_TRUE(b.admit(&cb, kT0));
  b.on_result(&cb, false, kT0);
  EXPECT_EQ(b.circuit(), Circuit::kOpen);
  EXPECT_FALSE(b.admit(&cb, kT0));
  EXPECT_FALSE(b.available(&cb, kT0));
}

TEST(CircuitBreaker, ASuccessResetsTheFailureCount) {
  Backend b = make_backend();
  const config::CircuitBreaker cb = breaker(3, seconds(30), 1);
  for (bool success : {false, false, true, false, false, true, false, false}) {
    ASSERT_TRUE(b.admit(&cb, kT0));
    b.on_result(&cb, success, kT0);
  }
  EXPECT_EQ(b.circuit(), Circuit::kClosed);
  b.on_result(&cb, false, kT0);
  EXPECT_EQ(b.circuit(), Circuit::kOpen);
}

TEST(CircuitBreaker, StaysOpenUntilRecoveryThenLetsOneProbeThrough) {
  Backend b = make_backend();
  const config::CircuitBreaker cb = breaker(1, seconds(30), 1);
  ASSERT_TRUE(b.admit(&cb, kT0));
  b.on_result(&cb, false, kT0);
  ASSERT_EQ(b.circuit(), Circuit::kOpen);

  EXPECT_FALSE(b.admit(&cb, kT0 + seconds(29)));
  EXPECT_FALSE(b.available(&cb, kT0 + seconds(29)));
  EXPECT_EQ(b.circuit(), Circuit::kOpen);

  // available() reports that a probe could go, without taking the slot.
  EXPECT_TRUE(b.available(&cb, kT0 + seconds(30)));
  EXPECT_TRUE(b.available(&cb, kT0 + seconds(30)));
  EXPECT_EQ(b.circuit(), Circuit::kOpen);

  EXPECT_TRUE(b.admit(&cb, kT0 + seconds(30)));  // the probe
  EXPECT_EQ(b.circuit(), Circuit::kHalfOpen);
  EXPECT_FALSE(b.admit(&cb, kT0 + seconds(31)));  // only one at a time
  EXPECT_FALSE(b.available(&cb, kT0 + seconds(31)));
}

TEST(CircuitBreaker, ProbeSuccessCloses) {
  Backend b = make_backend();
  const config::CircuitBreaker cb = breaker(1, seconds(30), 1);
  ASSERT_TRUE(b.admit(&cb, kT0));
  b.on_result(&cb, false, kT0);
  ASSERT_TRUE(b.admit(&cb, kT0 + seconds(30)));
  ASSERT_EQ(b.circuit(), Circuit::kHalfOpen);
  b.on_result(&cb, true, kT0 + seconds(31));
  EXPECT_EQ(b.circuit(), Circuit::kClosed);
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(b.admit(&cb, kT0 + seconds(31)));
  EXPECT_TRUE(b.available(&cb, kT0 + seconds(31)));
}

TEST(CircuitBreaker, ProbeFailureReopensForAnotherRecoveryPeriod) {
  Backend b = make_backend();
  const config::CircuitBreaker cb = breaker(3, seconds(30), 1);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(b.admit(&cb, kT0));
    b.on_result(&cb, false, kT0);
  }
  ASSERT_TRUE(b.admit(&cb, kT0 + seconds(30)));
  ASSERT_EQ(b.circuit(), Circuit::kHalfOpen);
  // One failed probe is enough to reopen, whatever the threshold.
  b.on_result(&cb, false, kT0 + seconds(40));
  EXPECT_EQ(b.circuit(), Circuit::kOpen);
  // The new recovery period counts from the probe's failure.
  EXPECT_FALSE(b.admit(&cb, kT0 + seconds(69)));
  EXPECT_FALSE(b.available(&cb, kT0 + seconds(69)));
  EXPECT_TRUE(b.available(&cb, kT0 + seconds(70)));
  EXPECT_TRUE(b.admit(&cb, kT0 + seconds(70)));
  EXPECT_EQ(b.circuit(), Circuit::kHalfOpen);
}

TEST(CircuitBreaker, ProbeLimitInHalfOpen) {
  Backend b = make_backend();
  const config::CircuitBreaker cb = breaker(1, seconds(10), 3);
  ASSERT_TRUE(b.admit(&cb, kT0));
  b.on_result(&cb, false, kT0);
  const Clock::time_point t = kT0 + seconds(10);
  EXPECT_TRUE(b.admit(&cb, t));
  EXPECT_TRUE(b.admit(&cb, t));
  EXPECT_TRUE(b.available(&cb, t));
  EXPECT_TRUE(b.admit(&cb, t));
  EXPECT_FALSE(b.available(&cb, t));
  EXPECT_FALSE(b.admit(&cb, t));
  EXPECT_EQ(b.circuit(), Circuit::kHalfOpen);
}

TEST(CircuitBreaker, FailedProbeReopensEvenWithOtherProbesOut) {
  Backend b = make_backend();
  const config::CircuitBreaker cb = breaker(1, seconds(10), 2);
  ASSERT_TRUE(b.admit(&cb, kT0));
  b.on_result(&cb, false, kT0);
  const Clock::time_point t = kT0 + seconds(10);
  ASSERT_TRUE(b.admit(&cb, t));
  ASSERT_TRUE(b.admit(&cb, t));
  b.on_result(&cb, false, t + seconds(1));
  EXPECT_EQ(b.circuit(), Circuit::kOpen);
  EXPECT_FALSE(b.admit(&cb, t + seconds(2)));
}

// A request admitted while the circuit was closed can finish after it opened. Its success says
// nothing about the recovery that open is waiting for: the documented path out of open is
// "after recovery → half-open → probes", so the circuit stays open.
TEST(CircuitBreaker, LateSuccessDoesNotCloseAnOpenCircuit) {
  Backend b = make_backend();
  const config::CircuitBreaker cb = breaker(2, seconds(30), 1);
  ASSERT_TRUE(b.admit(&cb, kT0));  // the slow request
  ASSERT_TRUE(b.admit(&cb, kT0));
  ASSERT_TRUE(b.admit(&cb, kT0));
  b.on_result(&cb, false, kT0 + seconds(1));
  b.on_result(&cb, false, kT0 + seconds(1));
  ASSERT_EQ(b.circuit(), Circuit::kOpen);
  b.on_result(&cb, true, kT0 + seconds(2));  // the slow request finally succeeds
  EXPECT_EQ(b.circuit(), Circuit::kOpen);
  EXPECT_FALSE(b.admit(&cb, kT0 + seconds(3)));
}

TEST(CircuitBreaker, AvailableCombinesHealthEjectionAndCircuit) {
  Backend b = make_backend();
  const config::CircuitBreaker cb = breaker(1, seconds(30), 1);
  const config::PassiveHealth p = passive(1, seconds(10), seconds(5));
  b.record_failure(p, kT0);  // ejected until kT0 + 5s
  EXPECT_FALSE(b.available(&cb, kT0 + seconds(1)));
  EXPECT_TRUE(b.available(&cb, kT0 + seconds(5)));
  ASSERT_TRUE(b.admit(&cb, kT0 + seconds(5)));
  b.on_result(&cb, false, kT0 + seconds(5));  // circuit open until kT0 + 35s
  EXPECT_FALSE(b.available(&cb, kT0 + seconds(20)));
  EXPECT_TRUE(b.available(nullptr, kT0 + seconds(20)));  // the breaker is per upstream config
  EXPECT_TRUE(b.available(&cb, kT0 + seconds(35)));
}

}  // namespace
}  // namespace rws::proxy
