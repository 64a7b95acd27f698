// Atomic file writes with POSIX calls (std::ofstream cannot fsync).
#include "io/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace convscope::io {

namespace {
Status posixError(const std::string& what, const std::string& path) {
    return Status::error(what + ": " + std::strerror(errno), path,
                         "Check that the folder exists, is writable and the disk is not full");
}
} // namespace

Status writeFileAtomic(const std::string& path, std::string_view bytes) {
    const std::filesystem::path target(path);
    const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
    std::string name = target.filename().string();
    name.append(".XXXXXX");
    std::string tmp = (dir / name).string();
    tmp.insert(tmp.size() - name.size(), 1, '.'); // a hidden file beside the target
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0)
        return posixError("cannot create a temporary file", dir.string());
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            Status s = posixError("cannot write", tmp);
            ::close(fd);
            ::unlink(tmp.c_str());
            return s;
        }
        done += std::size_t(n);
    }
    ::fchmod(fd, 0644);
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        Status s = posixError("cannot flush", tmp);
        ::unlink(tmp.c_str());
        return s;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        Status s = posixError("cannot rename the temporary file into place", path);
        ::unlink(tmp.c_str());
        return s;
    }
    if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY); dfd >= 0) {
        ::fsync(dfd); // the rename itself reaches the disk
        ::close(dfd);
    }
    return {};
}

Result<std::string> readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Status::error("cannot open the file", path, "Check the path");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Status makeDirectories(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec)
        return Status::error("cannot create the folder: " + ec.message(), path,
                             "Choose a writable location with --out");
    return {};
}

} // namespace convscope::io
