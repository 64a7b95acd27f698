// Atomic file writes: a temporary file in the same folder, fsync, rename, fsync of the folder.
// A crash or a full disk leaves either the old file or the new one, never half a file.
#pragma once

#include "core/status.h"
#include <string>
#include <string_view>

namespace convscope::io {

Status writeFileAtomic(const std::string& path, std::string_view bytes);
Result<std::string> readFile(const std::string& path);
// Creates a folder and its parents; fine if it exists.
Status makeDirectories(const std::string& path);

} // namespace convscope::io
