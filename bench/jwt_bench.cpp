// Per-request cost of JWT verification (what jwt_auth adds to a request): HS256, RS256 (2048-bit
// key) and ES256 tokens from the unit-test fixtures (made by PyJWT), checked in full: parse,
// signature, exp/iss/aud, claims re-serialised for the claims header.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DRWS_BUILD_BENCH=ON
//   cmake --build build/bench --target jwt_bench && build/bench/bench/jwt_bench

#include <benchmark/benchmark.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <rws/auth/jwt.hpp>

namespace {

using rws::auth::JwtKeys;
using rws::auth::JwtResult;
using rws::auth::JwtRules;
using rws::auth::JwtVerifier;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(RWS_JWT_FIXTURES) + "/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + name);
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  return text;
}

JwtRules rules() {
  JwtRules r;
  r.issuer = "https://issuer.example";
  r.audience = {"api"};
  return r;
}

void run(benchmark::State& state, const JwtVerifier& verifier, const std::string& token) {
  const auto now = std::chrono::system_clock::now();
  if (!verifier.verify(token, now).valid) throw std::runtime_error("fixture token rejected");
  for (auto _ : state) {
    JwtResult r = verifier.verify(token, now);
    benchmark::DoNotOptimize(r.valid);
  }
}

void BM_VerifyHS256(benchmark::State& state) {
  const JwtVerifier v(JwtKeys::secret(fixture("hs_secret.txt")), rules());
  run(state, v, fixture("hs256_valid.jwt"));
}

void BM_VerifyRS256(benchmark::State& state) {
  const JwtVerifier v(JwtKeys::pem(fixture("rsa_public.pem"), "rsa_public.pem"), rules());
  run(state, v, fixture("rs256_valid.jwt"));
}

void BM_VerifyES256(benchmark::State& state) {
  const JwtVerifier v(JwtKeys::pem(fixture("ec_public.pem"), "ec_public.pem"), rules());
  run(state, v, fixture("es256_valid.jwt"));
}

// A token that fails on its signature: the cost an attacker can make rws pay per request.
void BM_RejectRS256BadSignature(benchmark::State& state) {
  const JwtVerifier v(JwtKeys::pem(fixture("rsa_public.pem"), "rsa_public.pem"), rules());
  const std::string token = fixture("rs256_other_key.jwt");
  const auto now = std::chrono::system_clock::now();
  for (auto _ : state) {
    JwtResult r = v.verify(token, now);
    benchmark::DoNotOptimize(r.valid);
  }
}

}  // namespace

BENCHMARK(BM_VerifyHS256);
BENCHMARK(BM_VerifyRS256);
BENCHMARK(BM_VerifyES256);
BENCHMARK(BM_RejectRS256BadSignature);
BENCHMARK_MAIN();
