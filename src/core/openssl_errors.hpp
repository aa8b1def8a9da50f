#pragma once

#include <string>

namespace rws {

// OpenSSL's error queue of this thread as one line ("error:...; error:..."), emptying it;
// "unknown OpenSSL error" when the queue is empty.
std::string openssl_errors();

}  // namespace rws
