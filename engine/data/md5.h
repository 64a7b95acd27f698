// MD5 (RFC 1321), to check downloads against their published checksums; not for security.
#pragma once

#include "core/progress.h"
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace convscope::data {

class Md5 {
public:
    void update(const void* data, std::size_t size);
    // The digest as 32 lowercase hex digits; the object is spent afterwards.
    std::string hexDigest();

private:
    void block(const std::uint8_t* p);
    std::array<std::uint32_t, 4> m_state{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    std::array<std::uint8_t, 64> m_buffer{};
    std::uint64_t m_bytes = 0;
};

std::string md5Hex(std::string_view bytes);
// MD5 of a file's contents, reported as stage "verifying"; cancellable between 1 MiB reads.
Result<std::string> md5File(const std::string& path, Progress* progress = nullptr);

} // namespace convscope::data
