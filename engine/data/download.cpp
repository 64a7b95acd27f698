// Downloads through libcurl's easy interface; tar.gz unpacking with a small ustar reader over
// zlib's gzip stream; CIFAR-10 fetched with both.
#include "data/download.h"

#include "data/md5.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <curl/curl.h>
#include <filesystem>
#include <memory>
#include <mutex>
#include <unistd.h>
#include <utility>
#include <vector>
#include <zlib.h>

namespace convscope::data {

namespace fs = std::filesystem;

namespace {

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

File openFile(const fs::path& path, const char* mode) {
    return {std::fopen(path.c_str(), mode), std::fclose};
}

std::int64_t fileSize(const std::string& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    return ec ? -1 : std::int64_t(size);
}

std::string systemError(const std::string& what, int error) {
    return what + " (" + std::strerror(error) + ")";
}

// The way round a download that keeps failing.
std::string byHand(const std::string& url, const std::string& dest) {
    std::error_code ec;
    const fs::path p = fs::absolute(dest, ec);
    return "or download " + url + " by hand and save it in " + p.parent_path().string() + " as " +
           p.filename().string();
}

// How `path` differs from the expected size and MD5, expected against got ("" when it does not).
// A read error or a cancel is the Result's error.
Result<std::string> mismatch(const std::string& path, const DownloadOptions& options,
                             Progress* progress) {
    const std::int64_t size = fileSize(path);
    if (options.expectedSize >= 0 && size != options.expectedSize)
        return "size mismatch: expected " + std::to_string(options.expectedSize) + " bytes, got " +
               std::to_string(size);
    if (options.md5.empty())
        return std::string();
    CS_TRY_ASSIGN(const std::string got, md5File(path, progress));
    std::string expected = options.md5;
    std::transform(expected.begin(), expected.end(), expected.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return got == expected ? std::string() : "MD5 mismatch: expected " + expected + ", got " + got;
}

// One HTTP transfer appending to the .part file, as libcurl's callbacks see it.
struct Transfer {
    CURL* curl;
    std::FILE* file;
    std::int64_t offset; // bytes of the .part before this response's body
    std::int64_t expectedSize;
    Progress* progress;
    bool started = false; // the first bytes of the body have arrived
    bool discard = false; // 416 to a Range request: the .part is complete already
    int writeErrno = 0;
};

std::size_t onBody(char* data, std::size_t, std::size_t n, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    if (!t.started) {
        t.started = true;
        long code = 0;
        curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &code);
        t.discard = code == 416 && t.offset > 0;
        if (code >= 400 && !t.discard)
            return 0; // an error page is not the file; downloadFile reports the status code
        if (code != 206 && t.offset > 0) { // the server ignored the Range: start from zero
            if (ftruncate(fileno(t.file), 0) != 0) {
                t.writeErrno = errno;
                return 0;
            }
            t.offset = 0;
        }
    }
    if (!t.discard && std::fwrite(data, 1, n, t.file) != n) {
        t.writeErrno = errno;
        return 0;
    }
    return n;
}

int onProgress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
    auto& t = *static_cast<Transfer*>(user);
    const std::int64_t all = total > 0 ? t.offset + total : t.expectedSize;
    if (t.progress && all > 0)
        t.progress->report(t.offset + now, all, "downloading");
    return cancelled(t.progress) ? 1 : 0;
}

Status transferError(CURLcode code, const char* detail, const std::string& url,
                     const std::string& dest) {
    std::string what, retry = "Check the network connection and try again";
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        what = "cannot resolve the server's name";
        break;
    case CURLE_COULDNT_CONNECT:
        what = "cannot connect to the server";
        break;
    case CURLE_OPERATION_TIMEDOUT:
        what = "the transfer timed out";
        break;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
        what = "the connection broke off";
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        what = "cannot verify the server's certificate";
        retry = "Install the CA certificates (sudo apt-get install ca-certificates), check the "
                "system clock and try again";
        break;
    default:
        what = "the download failed";
    }
    if (fileSize(dest + ".part") > 0)
        retry += " (the download resumes from " + dest + ".part)";
    return Status::error(what + " (" + (*detail ? detail : curl_easy_strerror(code)) + ")", url,
                         retry + ", " + byHand(url, dest));
}

// Appends the body of `url` from byte `offset` on to the .part file (from zero when the server
// does not honour the Range).
Status transfer(const std::string& url, const std::string& dest, std::int64_t offset,
                const DownloadOptions& options, Progress* progress) {
    static std::once_flag curlInit;
    std::call_once(curlInit, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    const std::string part = dest + ".part";
    File file = openFile(part, "ab");
    if (!file)
        return Status::error(systemError("cannot create the file", errno), part,
                             "Check the folder's permissions or choose another data folder");
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl)
        return Status::error("libcurl failed to start", url,
                             "Check that libcurl4 is installed and memory is free");
    CURL* c = curl.get();
    Transfer t{c, file.get(), offset, options.expectedSize, progress};
    char detail[CURL_ERROR_SIZE] = "";
    const std::string range = std::to_string(offset) + "-";
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "convscope");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connectTimeoutS);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedBytesPerS);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.lowSpeedTimeS);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    if (offset > 0)
        curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
    const CURLcode code = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (std::fclose(file.release()) != 0 && !t.writeErrno)
        t.writeErrno = errno;

    if (code == CURLE_ABORTED_BY_CALLBACK)
        return Progress::cancelledStatus("download of " + url);
    if (status >= 400 && !(status == 416 && offset > 0))
        return Status::error("the server answered HTTP " + std::to_string(status), url,
                             "Check the address, " + byHand(url, dest));
    if (t.writeErrno)
        return Status::error(systemError("cannot write the file", t.writeErrno), part,
                             "Free some disk space or choose another data folder, then run the "
                             "download again (it resumes)");
    if (code != CURLE_OK)
        return transferError(code, detail, url, dest);
    return {};
}

// A tar header's number: octal digits, padded with spaces or NULs.
bool octal(const char* field, int width, std::int64_t& value) {
    int i = 0;
    while (i < width && field[i] == ' ')
        ++i;
    const int first = i;
    for (value = 0; i < width && field[i] >= '0' && field[i] <= '7'; ++i)
        value = value * 8 + (field[i] - '0');
    const bool digits = i > first;
    for (; i < width; ++i)
        if (field[i] != ' ' && field[i] != '\0')
            return false;
    return digits;
}

// An entry's path below the extraction folder, "." and empty parts dropped. Absolute paths and
// ".." parts are refused: they would write outside the folder.
Result<fs::path> entryPath(const std::string& name, const std::string& archive) {
    const std::string hint = "The archive tries to write outside the folder it is unpacked into; "
                             "delete it and download it again from the official site";
    if (!name.empty() && name[0] == '/')
        return Status::error("entry \"" + name + "\" has an absolute path", archive, hint);
    fs::path rel;
    for (const fs::path& part : fs::path(name)) {
        if (part == "..")
            return Status::error("entry \"" + name + "\" has a \"..\" in its path", archive, hint);
        if (!part.empty() && part != ".")
            rel /= part;
    }
    return rel;
}

// The "path" record of a pax extended header ("<length> <key>=<value>\n" records), or "".
std::string paxPath(const std::string& records) {
    std::string path;
    for (std::size_t at = 0; at < records.size();) {
        const std::size_t space = records.find(' ', at);
        const std::size_t length = std::strtoul(records.c_str() + at, nullptr, 10);
        if (space == std::string::npos || length <= space - at + 1 || at + length > records.size())
            break; // malformed: the entry keeps its ustar name
        if (records.compare(space + 1, 5, "path=") == 0)
            path = records.substr(space + 6, at + length - space - 7);
        at += length;
    }
    return path;
}

// Reads the tar stream of `archive` into the folder `into`.
Status unpack(const std::string& archive, const fs::path& into, Progress* progress) {
    const std::string job = "unpacking " + archive;
    const std::int64_t total = fileSize(archive);
    std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(archive.c_str(), "rb"), gzclose);
    if (!gz)
        return Status::error(systemError("cannot open the archive", errno), archive,
                             "Check that it exists and is readable");
    gzbuffer(gz.get(), 1 << 18);
    auto read = [&](void* buf, std::size_t n) {
        return gzread(gz.get(), buf, unsigned(n)) == int(n);
    };
    auto damaged = [&](const std::string& what) {
        int code = Z_OK;
        std::string reason = gzerror(gz.get(), &code); // "<archive>: <what zlib saw>"
        if (reason.rfind(archive + ": ", 0) == 0)
            reason.erase(0, archive.size() + 2);
        return Status::error(what + (code != Z_OK ? " (" + reason + ")" : ""), archive,
                             "The archive is truncated or damaged; delete it and "
                             "download it again");
    };
    std::vector<char> buf(1 << 16);
    char h[512];
    std::string longName; // the next entry's name, from a GNU or pax extended header
    for (int entry = 0;; ++entry) {
        if (cancelled(progress))
            return Progress::cancelledStatus(job);
        if (!read(h, sizeof h))
            return damaged("the archive ends before its end-of-archive marker");
        if (std::all_of(h, h + sizeof h, [](char c) { return c == 0; }))
            break;
        std::int64_t checksum = 0, sum = 0, size = 0;
        for (int i = 0; i < 512; ++i)
            sum += i >= 148 && i < 156 ? ' ' : static_cast<unsigned char>(h[i]);
        if (!octal(h + 148, 8, checksum) || checksum != sum)
            return damaged("header " + std::to_string(entry) +
                           " is damaged (checksum mismatch): not a tar archive, or a broken one");
        std::string name(h, strnlen(h, 100));
        if (std::memcmp(h + 257, "ustar", 6) == 0 && h[345]) // POSIX ustar: a name prefix
            name = std::string(h + 345, strnlen(h + 345, 155)) + "/" + name;
        if (!octal(h + 124, 12, size))
            return damaged("entry \"" + name + "\" has a damaged size field");
        const char type = h[156];
        // GNU long names ('L') and pax headers ('x': for the next entry, 'g': global) are read into
        // `meta`; only a path from them is used. Their own names may be absolute.
        const bool isMeta = type == 'L' || type == 'x' || type == 'g';
        if (isMeta && size > (1 << 20))
            return damaged("entry \"" + name + "\" has an implausibly large extended header");
        if (!isMeta && !longName.empty())
            name = std::exchange(longName, {});
        CS_TRY_ASSIGN(const fs::path rel, isMeta ? fs::path() : entryPath(name, archive));
        const fs::path out = into / rel;
        std::error_code ec;
        File file(nullptr, std::fclose);
        std::string meta;
        if (type == '0' || type == '\0' || type == '7') {
            if (rel.empty())
                return damaged("entry " + std::to_string(entry) + " is a file without a name");
            fs::create_directories(out.parent_path(), ec);
            if (file = openFile(out, "wb"); !file)
                return Status::error(systemError("cannot create the file", errno), out.string(),
                                     "Check the folder's permissions and free disk space");
        } else if (type == '5') {
            if (fs::create_directories(out, ec); ec)
                return Status::error("cannot create the folder (" + ec.message() + ")",
                                     out.string(), "Check the folder's permissions");
        } else if (!isMeta) {
            return Status::error("entry \"" + name + "\" is of tar type '" + std::string(1, type) +
                                     "' (a link, device or other special file); only files and "
                                     "folders are unpacked",
                                 archive, "Unpack the archive by hand (tar xzf) instead");
        }
        // The entry's data, padded to whole 512-byte blocks.
        const std::int64_t padded = (size + 511) / 512 * 512;
        for (std::int64_t at = 0; at < padded;) {
            const auto n =
                std::size_t(std::min<std::int64_t>(padded - at, std::int64_t(buf.size())));
            if (!read(buf.data(), n))
                return damaged("the archive ends inside entry \"" + name + "\"");
            const auto data = std::size_t(std::clamp<std::int64_t>(size - at, 0, std::int64_t(n)));
            if (isMeta)
                meta.append(buf.data(), data);
            else if (file && std::fwrite(buf.data(), 1, data, file.get()) != data)
                return Status::error(systemError("cannot write the file", errno), out.string(),
                                     "Free some disk space or choose another data folder");
            at += std::int64_t(n);
            if (cancelled(progress))
                return Progress::cancelledStatus(job);
            if (progress)
                progress->report(gzoffset(gz.get()), total, "extracting");
        }
        if (file && std::fclose(file.release()) != 0)
            return Status::error(systemError("cannot write the file", errno), out.string(),
                                 "Free some disk space or choose another data folder");
        if (type == 'L')
            longName = meta.c_str(); // NUL-terminated
        else if (type == 'x')
            longName = paxPath(meta);
    }
    // The rest (zero blocks up to tar's record size) must decompress too: gzip's CRC is at the end.
    while (gzread(gz.get(), buf.data(), unsigned(buf.size())) > 0) {
    }
    int code = Z_OK;
    gzerror(gz.get(), &code);
    if (code != Z_OK)
        return damaged("the archive's end is damaged");
    return {};
}

// Renames the top-level entries of `from` into `to`, after checking that none is there already.
Status moveIntoPlace(const fs::path& from, const fs::path& to, const std::string& archive) {
    std::error_code ec;
    std::vector<fs::path> names;
    for (const auto& e : fs::directory_iterator(from, ec)) {
        names.push_back(e.path().filename());
        if (fs::exists(fs::symlink_status(to / names.back(), ec)))
            return Status::error("already exists", (to / names.back()).string(),
                                 "Move it away or delete it, then unpack " + archive + " again");
    }
    for (const fs::path& name : names)
        if (fs::rename(from / name, to / name, ec); ec)
            return Status::error("cannot move " + (from / name).string() + " into place (" +
                                     ec.message() + ")",
                                 (to / name).string(), "Check the folder's permissions");
    return {};
}

} // namespace

Status downloadFile(const std::string& url, const std::string& dest, const DownloadOptions& options,
                    Progress* progress) {
    const std::string part = dest + ".part";
    std::error_code ec;
    const fs::path dir = fs::absolute(dest, ec).parent_path();
    if (fs::create_directories(dir, ec); ec)
        return Status::error("cannot create the folder (" + ec.message() + ")", dir.string(),
                             "Check its permissions or choose another data folder");
    if (cancelled(progress))
        return Progress::cancelledStatus("download of " + url);
    const std::int64_t have = std::max<std::int64_t>(fileSize(part), 0);
    if (options.expectedSize < 0 || have < options.expectedSize) {
        if (Status s = transfer(url, dest, have, options, progress); !s.ok()) {
            if (fileSize(part) == 0)
                fs::remove(part, ec);
            return s;
        }
    }
    CS_TRY_ASSIGN(const std::string wrong, mismatch(part, options, progress));
    if (!wrong.empty()) {
        fs::remove(part, ec);
        return Status::error(wrong, url,
                             "Deleted " + part +
                                 "; the server sent a different or damaged file. Run the "
                                 "download again, " +
                                 byHand(url, dest));
    }
    if (fs::rename(part, dest, ec); ec)
        return Status::error("cannot rename " + part + " to its final name (" + ec.message() + ")",
                             dest, "Check the folder's permissions");
    return {};
}

Status extractTarGz(const std::string& archive, const std::string& destDir, Progress* progress) {
    const fs::path tmp = fs::path(destDir) / ".tmp-extract";
    std::error_code ec;
    fs::remove_all(tmp, ec); // left behind by a crash
    if (fs::create_directories(tmp, ec); ec)
        return Status::error("cannot create the folder (" + ec.message() + ")", tmp.string(),
                             "Check the permissions of " + destDir +
                                 " or choose another data folder");
    Status s = unpack(archive, tmp, progress);
    if (s.ok())
        s = moveIntoPlace(tmp, destDir, archive);
    fs::remove_all(tmp, ec);
    return s;
}

Result<std::string> fetchCifar10(const std::string& dataDir, const FetchOptions& options,
                                 Progress* progress) {
    const std::string folder = (fs::path(dataDir) / kCifar10Folder).string();
    const std::string archive = (fs::path(dataDir) / kCifar10Archive).string();
    std::error_code ec;
    if (fs::exists(folder, ec)) {
        if (Status s = loadCifar10(folder).status(); !s.ok())
            return Status::error("the folder is there but does not load (" + s.where() + ": " +
                                     s.what() + ")",
                                 folder,
                                 "Move it away or delete it (convscope leaves it alone), then "
                                 "fetch CIFAR-10 again");
        return folder;
    }
    if (fs::create_directories(dataDir, ec); ec)
        return Status::error("cannot create the data folder: " + ec.message(), dataDir,
                             "Choose a folder you can write to (--data DIR)");
    if (fileSize(archive) >= 0) { // downloaded before, or saved by hand
        CS_TRY_ASSIGN(const std::string wrong, mismatch(archive, options.download, progress));
        if (!wrong.empty())
            return Status::error(wrong, archive,
                                 "It is incomplete or not the official archive; delete it (or "
                                 "rename it to " +
                                     archive + ".part to resume it) and fetch again");
    } else {
        CS_TRY(downloadFile(options.url, archive, options.download, progress));
    }
    CS_TRY(extractTarGz(archive, dataDir, progress));
    if (Status s = loadCifar10(folder).status(); !s.ok())
        return Status::error("unpacked " + archive + ", but the folder does not load (" +
                                 s.where() + ": " + s.what() + ")",
                             folder,
                             "The archive is not CIFAR-10's binary version; delete both and "
                             "fetch again");
    return folder;
}

} // namespace convscope::data
