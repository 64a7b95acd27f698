// Fetching datasets over HTTP(S): resumable, verified downloads (libcurl), a tar.gz unpacker that
// never leaves a half-written folder, and CIFAR-10 fetched into a data folder in one call.
#pragma once

#include "core/progress.h"
#include "data/cifar.h"
#include <cstdint>
#include <string>

namespace convscope::data {

// The official CIFAR-10 binary archive (https://www.cs.toronto.edu/~kriz/cifar.html); its URL is
// data::kCifar10Url.
inline constexpr std::int64_t kCifar10Bytes = 170052171;
inline constexpr const char* kCifar10Md5 = "c32a1d4ab5d03f1284b67883e8d87530";
inline constexpr const char* kCifar10Archive = "cifar-10-binary.tar.gz";
inline constexpr const char* kCifar10Folder = "cifar-10-batches-bin";

struct DownloadOptions {
    std::int64_t expectedSize = -1; // bytes; negative: not checked
    std::string md5;                // 32 hex digits; empty: not checked
    long connectTimeoutS = 30;
    // Give up when fewer than lowSpeedBytesPerS arrive for lowSpeedTimeS seconds (a stalled link).
    long lowSpeedBytesPerS = 1;
    long lowSpeedTimeS = 60;
};

// Downloads `url` (redirects followed) to `dest` + ".part", resuming from an existing .part with a
// Range request (a server that ignores it is read from the start again), checks the size and MD5,
// then renames the .part to `dest` (replacing it). Progress stages: "downloading", "verifying".
// Cancelling returns Progress::cancelledStatus and keeps the .part; a size or MD5 mismatch
// deletes it. Errors name the URL or the file and say how to get the file by hand.
Status downloadFile(const std::string& url, const std::string& dest,
                    const DownloadOptions& options = {}, Progress* progress = nullptr);

// Unpacks a tar.gz (ustar, GNU or pax; regular files and folders, long names included) into
// `destDir`: everything goes to destDir/.tmp-extract first and its top-level entries are renamed
// into place at the end, so a truncated or corrupt archive, an unsafe path (absolute, or with
// "..") or a cancel leaves nothing behind. Refuses to replace an entry that exists in destDir.
// Progress stage: "extracting" (compressed bytes read).
Status extractTarGz(const std::string& archive, const std::string& destDir,
                    Progress* progress = nullptr);

struct FetchOptions {
    std::string url = kCifar10Url;
    // Size and MD5 of the archive at `url`, plus the transfer's timeouts.
    DownloadOptions download{.expectedSize = kCifar10Bytes, .md5 = kCifar10Md5};
};

// CIFAR-10 into `dataDir`: returns dataDir/cifar-10-batches-bin, the folder loadCifar10 (and
// loadDataset "cifar10") reads. Does nothing when that folder already loads; otherwise downloads
// dataDir/cifar-10-binary.tar.gz (unless a verified copy is there, e.g. one saved by hand),
// unpacks it and checks that the folder loads. Keeps the archive; deletes nothing the user had
// (an existing folder that does not load, or an archive with the wrong checksum, is an error).
Result<std::string> fetchCifar10(const std::string& dataDir, const FetchOptions& options = {},
                                 Progress* progress = nullptr);

} // namespace convscope::data
