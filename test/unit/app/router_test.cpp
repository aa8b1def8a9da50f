#include "app/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace rws::app_detail {
namespace {

using Outcome = Router::Outcome;

Router::Match find(const Router& r, const std::string& path, std::string_view method = "GET") {
  static std::string keep;  // the segments view the path
  keep = path;
  std::vector<std::string_view> segments = split_path(keep);
  return r.match(segments, method);
}

TEST(RoutePattern, Parses) {
  Pattern p = Pattern::parse("/users/:id/posts/{post}/*rest");
  ASSERT_EQ(p.segments.size(), 5u);
  EXPECT_EQ(p.segments[0].kind, Pattern::Kind::kLiteral);
  EXPECT_EQ(p.segments[1].kind, Pattern::Kind::kParam);
  EXPECT_EQ(p.segments[3].text, "post");
  EXPECT_EQ(p.segments[4].kind, Pattern::Kind::kWildcard);
  EXPECT_EQ(p.param_names, (std::vector<std::string>{"id", "post", "rest"}));
  EXPECT_THROW(Pattern::parse("users"), std::invalid_argument);
  EXPECT_THROW(Pattern::parse("/a/:/b"), std::invalid_argument);
  EXPECT_THROW(Pattern::parse("/a/*rest/b"), std::invalid_argument);
  EXPECT_THROW(Pattern::parse("/a/:x/:x"), std::invalid_argument);
}

TEST(RoutePattern, SplitsPaths) {
  EXPECT_EQ(split_path("/"), (std::vector<std::string_view>{""}));
  EXPECT_EQ(split_path("/a/b"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(split_path("/a/"), (std::vector<std::string_view>{"a", ""}));
}

TEST(Router, PriorityAndBacktracking) {
  Router r;
  r.add(Pattern::parse("/users/new"), "GET", 0);
  r.add(Pattern::parse("/users/:id"), "GET", 1);
  r.add(Pattern::parse("/users/:id/posts"), "GET", 2);
  r.add(Pattern::parse("/users/*rest"), "GET", 3);
  r.add(Pattern::parse("/"), "GET", 4);

  EXPECT_EQ(find(r, "/users/new").route, 0u);
  Router::Match m = find(r, "/users/42");
  EXPECT_EQ(m.route, 1u);
  EXPECT_EQ(m.params, (std::vector<std::string>{"42"}));
  EXPECT_EQ(find(r, "/users/42/posts").route, 2u);
  m = find(r, "/users/42/comments/7");  // the param branch fails deeper: back to the wildcard
  EXPECT_EQ(m.route, 3u);
  EXPECT_EQ(m.params, (std::vector<std::string>{"42/comments/7"}));
  EXPECT_EQ(find(r, "/").route, 4u);
  EXPECT_EQ(find(r, "/nope").outcome, Outcome::kNotFound);
  EXPECT_EQ(find(r, "/users/").route, 3u);  // params never match an empty segment
}

TEST(Router, MethodsHeadAnd405) {
  Router r;
  r.add(Pattern::parse("/item/:id"), "GET", 0);
  r.add(Pattern::parse("/item/:id"), "DELETE", 1);
  EXPECT_EQ(find(r, "/item/1", "DELETE").route, 1u);
  EXPECT_EQ(find(r, "/item/1", "HEAD").route, 0u);
  Router::Match m = find(r, "/item/1", "POST");
  EXPECT_EQ(m.outcome, Outcome::kNoMethod);
  EXPECT_EQ(m.methods, (std::vector<std::string_view>{"GET", "DELETE"}));
  EXPECT_THROW(r.add(Pattern::parse("/item/:other"), "GET", 2), std::invalid_argument);
}

TEST(Router, MethodSpecificBranchesFallThrough) {
  Router r;
  r.add(Pattern::parse("/users/new"), "POST", 0);
  r.add(Pattern::parse("/users/:id"), "GET", 1);
  EXPECT_EQ(find(r, "/users/new", "GET").route, 1u);
  EXPECT_EQ(find(r, "/users/new", "POST").route, 0u);
  EXPECT_EQ(find(r, "/users/new", "PUT").outcome, Outcome::kNoMethod);
}

TEST(Router, WildcardMatchesTheMountItself) {
  Router r;
  r.add(Pattern::parse("/assets/*path"), "GET", 0);
  Router::Match m = find(r, "/assets");
  EXPECT_EQ(m.outcome, Outcome::kFound);
  EXPECT_EQ(m.params, (std::vector<std::string>{""}));
  EXPECT_EQ(find(r, "/assets/css/a.css").params, (std::vector<std::string>{"css/a.css"}));
  EXPECT_EQ(find(r, "/assetsx").outcome, Outcome::kNotFound);
}

TEST(Router, ManyRoutes) {
  Router r;
  for (std::size_t i = 0; i < 5000; ++i) {
    r.add(Pattern::parse("/r" + std::to_string(i) + "/:id"), "GET", i);
  }
  EXPECT_EQ(find(r, "/r4321/x").route, 4321u);
  EXPECT_EQ(find(r, "/r5000/x").outcome, Outcome::kNotFound);
}

}  // namespace
}  // namespace rws::app_detail
