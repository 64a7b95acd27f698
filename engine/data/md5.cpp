// MD5 after RFC 1321 section 3: 64-byte blocks, four rounds of sixteen steps.
#include "data/md5.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

namespace convscope::data {

namespace {

constexpr std::uint32_t kT[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
constexpr int kShift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

std::uint32_t rotl(std::uint32_t x, int s) {
    return (x << s) | (x >> (32 - s));
}

} // namespace

void Md5::block(const std::uint8_t* p) {
    std::uint32_t x[16];
    for (int i = 0; i < 16; ++i)
        x[i] = std::uint32_t(p[4 * i]) | std::uint32_t(p[4 * i + 1]) << 8 |
               std::uint32_t(p[4 * i + 2]) << 16 | std::uint32_t(p[4 * i + 3]) << 24;
    std::uint32_t a = m_state[0], b = m_state[1], c = m_state[2], d = m_state[3];
    for (int i = 0; i < 64; ++i) {
        const int round = i / 16;
        std::uint32_t f;
        int k;
        switch (round) {
        case 0:
            f = (b & c) | (~b & d), k = i;
            break;
        case 1:
            f = (b & d) | (c & ~d), k = (5 * i + 1) % 16;
            break;
        case 2:
            f = b ^ c ^ d, k = (3 * i + 5) % 16;
            break;
        default:
            f = c ^ (b | ~d), k = (7 * i) % 16;
            break;
        }
        const std::uint32_t next = b + rotl(a + f + x[k] + kT[i], kShift[round][i % 4]);
        a = d, d = c, c = b, b = next;
    }
    m_state[0] += a, m_state[1] += b, m_state[2] += c, m_state[3] += d;
}

void Md5::update(const void* data, std::size_t size) {
    auto p = static_cast<const std::uint8_t*>(data);
    std::size_t used = m_bytes % 64;
    m_bytes += size;
    if (used) {
        const std::size_t take = std::min(size, 64 - used);
        std::memcpy(m_buffer.data() + used, p, take);
        p += take, size -= take, used += take;
        if (used < 64)
            return;
        block(m_buffer.data());
    }
    for (; size >= 64; p += 64, size -= 64)
        block(p);
    std::memcpy(m_buffer.data(), p, size);
}

std::string Md5::hexDigest() {
    const std::uint64_t bits = m_bytes * 8;
    const std::uint8_t pad = 0x80, zero = 0;
    update(&pad, 1);
    while (m_bytes % 64 != 56)
        update(&zero, 1);
    std::uint8_t length[8];
    for (int i = 0; i < 8; ++i)
        length[i] = std::uint8_t(bits >> (8 * i));
    update(length, 8);
    std::string hex;
    for (std::uint32_t word : m_state)
        for (int i = 0; i < 4; ++i) {
            const unsigned byte = (word >> (8 * i)) & 0xff;
            hex += "0123456789abcdef"[byte >> 4];
            hex += "0123456789abcdef"[byte & 15];
        }
    return hex;
}

std::string md5Hex(std::string_view bytes) {
    Md5 md5;
    md5.update(bytes.data(), bytes.size());
    return md5.hexDigest();
}

Result<std::string> md5File(const std::string& path, Progress* progress) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!f)
        return Status::error(std::string("cannot open the file (") + std::strerror(errno) + ")",
                             path, "Check that it exists and is readable");
    std::error_code ec;
    const auto total = std::int64_t(std::filesystem::file_size(path, ec));
    std::vector<char> buf(1 << 20);
    Md5 md5;
    std::int64_t done = 0;
    while (const std::size_t n = std::fread(buf.data(), 1, buf.size(), f.get())) {
        md5.update(buf.data(), n);
        done += std::int64_t(n);
        if (progress)
            progress->report(done, total, "verifying");
        if (cancelled(progress))
            return Progress::cancelledStatus("checksum of " + path);
    }
    if (std::ferror(f.get()))
        return Status::error(std::string("cannot read the file (") + std::strerror(errno) + ")",
                             path, "Check the disk and the file's permissions");
    return md5.hexDigest();
}

} // namespace convscope::data
