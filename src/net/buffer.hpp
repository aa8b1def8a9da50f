#pragma once
// Byte buffers for connection reads. A Buffer holds one contiguous region with a read cursor
// (bytes received but not yet consumed) and a write cursor (where the next read lands).
// BufferPool recycles buffers per worker so that an idle connection holds none (DESIGN §1.7).
// Neither type is thread-safe: each worker owns its pool and the buffers it hands out.

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace rws::net {

class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::size_t capacity)
      : data_(std::make_unique_for_overwrite<char[]>(capacity)), capacity_(capacity) {}

  bool allocated() const noexcept { return data_ != nullptr; }
  std::size_t capacity() const noexcept { return capacity_; }

  // Received bytes not yet consumed.
  std::string_view readable() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Free space after the readable bytes, moving them to the front first when that helps.
  // Moving invalidates views previously returned by readable().
  char* write_pointer() noexcept { return data_.get() + end_; }
  std::size_t writable() noexcept {
    if (begin_ > 0 && end_ == capacity_) compact();
    return capacity_ - end_;
  }
  void commit(std::size_t n) noexcept { end_ += n; }

  // Grows the buffer to `capacity` bytes, keeping the readable bytes.
  void grow(std::size_t capacity);

 private:
  void compact() noexcept;

  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

class BufferPool {
 public:
  // Buffers of `buffer_size` bytes; at most `max_free` are kept for reuse.
  BufferPool(std::size_t buffer_size, std::size_t max_free)
      : buffer_size_(buffer_size), max_free_(max_free) {}

  Buffer acquire();
  // Takes back an empty buffer; buffers that grew beyond the standard size are freed instead.
  void release(Buffer&& buffer);
  std::size_t buffer_size() const noexcept { return buffer_size_; }

 private:
  std::size_t buffer_size_;
  std::size_t max_free_;
  std::vector<Buffer> free_;
};

}  // namespace rws::net
