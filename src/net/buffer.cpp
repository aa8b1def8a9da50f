#include "net/buffer.hpp"

#include <cstring>

namespace rws::net {

void Buffer::compact() noexcept {
  std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
}

void Buffer::grow(std::size_t capacity) {
  if (capacity <= capacity_) return;
  auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
  if (data_) std::memcpy(bigger.get(), data_.get() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
  data_ = std::move(bigger);
  capacity_ = capacity;
}

Buffer BufferPool::acquire() {
  if (free_.empty()) return Buffer(buffer_size_);
  Buffer b = std::move(free_.back());
  free_.pop_back();
  return b;
}

void BufferPool::release(Buffer&& buffer) {
  if (!buffer.allocated() || buffer.capacity() != buffer_size_ || free_.size() >= max_free_) {
    buffer = Buffer();
    return;
  }
  buffer.consume(buffer.size());
  free_.push_back(std::move(buffer));
}

}  // namespace rws::net
