#pragma once
// SlotTable: counters per label set (one or two names, e.g. route, or upstream + backend),
// found without a lock or an allocation once the label set has been seen.
//
// Readers scan an immutable index published through an atomic pointer. A label set seen for the
// first time takes the mutex, creates its slot and publishes a copy of the index with it added;
// superseded indexes stay alive until the table is destroyed (label values come from the
// configuration, so there are few of them and the growth is bounded). Slots never move.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rws::metrics {

template <class Slot>
class SlotTable {
 public:
  struct Entry {
    std::string first;
    std::string second;
    Slot* slot;
  };
  using Index = std::vector<Entry>;

  SlotTable() { current_.store(keep(std::make_unique<Index>()), std::memory_order_release); }
  SlotTable(const SlotTable&) = delete;
  SlotTable& operator=(const SlotTable&) = delete;

  // The slot of (first, second), created on first sight. Thread-safe; may throw std::bad_alloc
  // (only when creating).
  Slot& get(std::string_view first, std::string_view second = {}) {
    if (Slot* s = find(*current_.load(std::memory_order_acquire), first, second)) return *s;
    std::lock_guard lock(mutex_);
    const Index& latest = *current_.load(std::memory_order_acquire);
    if (Slot* s = find(latest, first, second)) return *s;
    slots_.push_back(std::make_unique<Slot>());
    auto next = std::make_unique<Index>(latest);
    next->push_back(Entry{std::string(first), std::string(second), slots_.back().get()});
    current_.store(keep(std::move(next)), std::memory_order_release);
    return *slots_.back();
  }

  // Every label set seen so far, in order of first sight. The reference stays valid for the
  // table's lifetime.
  const Index& entries() const { return *current_.load(std::memory_order_acquire); }

 private:
  static Slot* find(const Index& index, std::string_view first, std::string_view second) {
    for (const Entry& e : index)
      if (e.first == first && e.second == second) return e.slot;
    return nullptr;
  }
  Index* keep(std::unique_ptr<Index> index) {
    indexes_.push_back(std::move(index));
    return indexes_.back().get();
  }

  std::mutex mutex_;
  std::vector<std::unique_ptr<Slot>> slots_;     // under mutex_
  std::vector<std::unique_ptr<Index>> indexes_;  // under mutex_ (and the constructor)
  std::atomic<Index*> current_{nullptr};
};

}  // namespace rws::metrics
