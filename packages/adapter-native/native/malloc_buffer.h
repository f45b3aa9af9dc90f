// Memory for a kernel call's bytes, from malloc rather than std::vector: nothing is zero-filled (a
// vector's resize writes every byte, and a large buffer then costs its pages, not only address
// space), a large realloc moves pages instead of copying them, a failure is a false return, never
// std::bad_alloc, and the memory can be handed to JS as it is (Take, then a finalizer that frees it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace ipcx {

class MallocBuffer {
 public:
  MallocBuffer() = default;
  MallocBuffer(const MallocBuffer&) = delete;
  MallocBuffer& operator=(const MallocBuffer&) = delete;
  ~MallocBuffer() { free(data_); }

  // Room for `size` bytes, the first size() kept (realloc); false when memory is short.
  bool Grow(size_t size) {
    if (size <= size_) return true;
    void* grown = realloc(data_, size);
    if (grown == nullptr) return false;
    data_ = static_cast<uint8_t*>(grown);
    size_ = size;
    return true;
  }
  // Room for `size` bytes whose contents are not needed: the old memory is freed before the new
  // is taken, so the two are never held together. False when memory is short (then none is held).
  bool Reserve(size_t size) {
    if (size <= size_) return true;
    free(data_);
    data_ = static_cast<uint8_t*>(malloc(size));
    size_ = data_ == nullptr ? 0 : size;
    return data_ != nullptr;
  }
  // Gives back what lies beyond `size` (> 0) bytes, when realloc can.
  void Shrink(size_t size) {
    if (data_ == nullptr || size == 0 || size >= size_) return;
    if (void* shrunk = realloc(data_, size)) {
      data_ = static_cast<uint8_t*>(shrunk);
      size_ = size;
    }
  }
  // The memory, now the caller's to free().
  uint8_t* Take() {
    uint8_t* data = data_;
    data_ = nullptr;
    size_ = 0;
    return data;
  }
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ipcx
