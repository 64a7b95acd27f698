// Test fixtures for downloads: a tiny HTTP/1.1 server on 127.0.0.1 (one connection at a time,
// Range requests, and modes that break the transfer), tar.gz archives written in-process, and a
// small fake CIFAR-10 archive in the real binary layout. Header-only; used by tst_download and
// the window's Get CIFAR-10 test.
#pragma once

#include <QtGlobal>
#include <arpa/inet.h>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>
#include <zlib.h>

namespace convscope::testing {

// How the server answers: as it should; closing the connection halfway through the body; with
// one byte changed; with the whole body whatever the Range; in small slow pieces; or sending
// half and then nothing.
enum class ServeMode { Normal, Truncate, WrongBytes, IgnoreRange, Slow, Stall };

// One connection at a time, "Connection: close". Paths: /moved redirects to /file, /missing is a
// 404, anything else is the body.
class HttpServer {
public:
    HttpServer() {
        m_listen = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (bind(m_listen, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(m_listen, 8) != 0 ||
            getsockname(m_listen, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            qFatal("test HTTP server: cannot listen on 127.0.0.1");
        m_port = ntohs(a.sin_port);
        m_thread = std::thread([this] { run(); });
    }
    ~HttpServer() {
        m_stop = true;
        m_thread.join();
        close(m_listen);
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(m_port) + path;
    }
    void serve(std::string body, ServeMode mode = ServeMode::Normal) {
        std::lock_guard lock(m_mutex);
        m_body = std::move(body);
        m_mode = mode;
    }
    void setMode(ServeMode mode) {
        std::lock_guard lock(m_mutex);
        m_mode = mode;
    }
    // The Range header of every request so far ("" where there was none).
    std::vector<std::string> ranges() {
        std::lock_guard lock(m_mutex);
        return m_ranges;
    }

private:
    void run() {
        while (!m_stop) {
            pollfd p{m_listen, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0)
                continue;
            const int c = accept(m_listen, nullptr, nullptr);
            if (c < 0)
                continue;
            timeval timeout{5, 0};
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
            answer(c);
            close(c);
        }
    }
    static bool sendAll(int c, std::string_view s) {
        while (!s.empty()) {
            const ssize_t n = send(c, s.data(), s.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            s.remove_prefix(std::size_t(n));
        }
        return true;
    }
    void answer(int c) {
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = recv(c, buf, sizeof buf, 0);
            if (n <= 0)
                return;
            request.append(buf, std::size_t(n));
        }
        const std::string path = request.substr(4, request.find(' ', 4) - 4);
        std::string range;
        if (const auto at = request.find("Range: "); at != std::string::npos)
            range = request.substr(at + 7, request.find("\r\n", at) - at - 7);
        std::string body;
        ServeMode mode;
        {
            std::lock_guard lock(m_mutex);
            m_ranges.push_back(range);
            body = m_body;
            mode = m_mode;
        }
        if (path == "/moved") {
            sendAll(c, "HTTP/1.1 302 Found\r\nLocation: /file\r\nContent-Length: 0\r\n"
                       "Connection: close\r\n\r\n");
            return;
        }
        if (path == "/missing") {
            sendAll(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\n"
                       "not here\n");
            return;
        }
        if (mode == ServeMode::WrongBytes)
            body[body.size() / 2] ^= 0x5a;
        const std::size_t total = body.size();
        std::size_t from = 0;
        std::string head = "HTTP/1.1 200 OK\r\n";
        if (!range.empty() && mode != ServeMode::IgnoreRange) {
            from = std::stoull(range.substr(6)); // "bytes=N-"
            if (from >= total) {
                sendAll(c, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" +
                               std::to_string(total) +
                               "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                return;
            }
            head = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + std::to_string(from) +
                   "-" + std::to_string(total - 1) + "/" + std::to_string(total) + "\r\n";
        }
        const std::string_view rest = std::string_view(body).substr(from);
        if (!sendAll(c, head + "Content-Length: " + std::to_string(rest.size()) +
                            "\r\nConnection: close\r\n\r\n"))
            return;
        switch (mode) {
        case ServeMode::Truncate:
            sendAll(c, rest.substr(0, rest.size() / 2));
            break;
        case ServeMode::Stall: // half, then nothing until the client gives up (at most 10 s)
            if (sendAll(c, rest.substr(0, rest.size() / 2))) {
                pollfd p{c, POLLIN, 0};
                poll(&p, 1, 10000);
            }
            break;
        case ServeMode::Slow:
            for (std::size_t at = 0; at < rest.size(); at += 16384) {
                if (!sendAll(c, rest.substr(at, 16384)))
                    break;
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            break;
        default:
            sendAll(c, rest);
        }
    }

    int m_listen = -1, m_port = 0;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
    std::mutex m_mutex;
    std::string m_body;
    ServeMode m_mode = ServeMode::Normal;
    std::vector<std::string> m_ranges;
};

// Bytes that gzip cannot shrink much (so a cut archive is cut inside the data).
inline std::string noise(std::size_t n, std::uint32_t seed) {
    std::string s(n, '\0');
    for (char& c : s) {
        seed = seed * 1664525u + 1013904223u;
        c = char(seed >> 24);
    }
    return s;
}

inline std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

inline void writeFile(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// One ustar entry: the 512-byte header, then the data padded to whole blocks.
inline std::string tarEntry(const std::string& name, const std::string& data = {}, char type = '0',
                            const std::string& prefix = {}) {
    std::string h(512, '\0');
    auto put = [&](std::size_t at, const std::string& s) { h.replace(at, s.size(), s); };
    auto number = [&](std::size_t at, int digits, std::uint64_t v) {
        char b[24];
        std::snprintf(b, sizeof b, "%0*llo", digits, static_cast<unsigned long long>(v));
        put(at, b);
    };
    put(0, name);
    number(100, 7, 0644);
    number(108, 7, 0);
    number(116, 7, 0);
    number(124, 11, data.size());
    number(136, 11, 0);
    put(148, "        ");
    h[156] = type;
    put(257, std::string("ustar\0"
                         "00",
                         8));
    put(345, prefix);
    unsigned sum = 0;
    for (unsigned char c : h)
        sum += c;
    number(148, 6, sum);
    return h + data + std::string((512 - data.size() % 512) % 512, '\0');
}

// A pax extended header giving the next entry the path `path`.
inline std::string paxPathHeader(const std::string& path) {
    const std::string record = " path=" + path + "\n"; // "<length><record>", length counting all
    std::size_t length = record.size() + 1;
    while (std::to_string(length).size() + record.size() != length)
        ++length;
    return tarEntry("PaxHeaders/next", std::to_string(length) + record, 'x');
}

inline void writeTarGz(const std::string& path, const std::string& entries) {
    const std::string tar = entries + std::string(1024, '\0');
    gzFile gz = gzopen(path.c_str(), "wb");
    gzwrite(gz, tar.data(), unsigned(tar.size()));
    gzclose(gz);
}

// The binary CIFAR-10 layout in small: batches of 3, 2, 2, 2, 1 records and a test batch of 4;
// record r of batch b has label (b + r) % 10 and pixel i = (b·31 + r·7 + i) % 256.
inline std::string fakeCifarTar() {
    auto batch = [](int b, int records) {
        std::string bytes;
        for (int r = 0; r < records; ++r) {
            bytes += char((b + r) % 10);
            for (int i = 0; i < 3072; ++i)
                bytes += char((b * 31 + r * 7 + i) % 256);
        }
        return bytes;
    };
    const std::string dir = "cifar-10-batches-bin/";
    std::string tar = tarEntry(dir, {}, '5');
    tar += tarEntry(dir + "batches.meta.txt",
                    "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
    const int records[] = {4, 3, 2, 2, 2, 1};
    for (int b = 1; b <= 5; ++b)
        tar += tarEntry(dir + "data_batch_" + std::to_string(b) + ".bin", batch(b, records[b]));
    return tar + tarEntry(dir + "test_batch.bin", batch(0, records[0]));
}

} // namespace convscope::testing
