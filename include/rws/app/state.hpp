#pragma once
// TypeMap: values looked up by their type. Used for the App's shared state and services
// (registered once, read by every request) and for per-request extensions (set by middleware,
// read by handlers).

#include <memory>
#include <typeindex>
#include <unordered_map>
#include <utility>

namespace rws {

class TypeMap {
 public:
  template <class T>
  T& put(std::shared_ptr<T> value) {
    T& ref = *value;
    items_[std::type_index(typeid(T))] = std::move(value);
    return ref;
  }
  template <class T>
  T& emplace(T value) {
    return put(std::make_shared<T>(std::move(value)));
  }
  // The value registered for T, or nullptr.
  template <class T>
  T* find() const {
    auto it = items_.find(std::type_index(typeid(T)));
    return it == items_.end() ? nullptr : static_cast<T*>(it->second.get());
  }
  bool empty() const noexcept { return items_.empty(); }

 private:
  std::unordered_map<std::type_index, std::shared_ptr<void>> items_;
};

}  // namespace rws
