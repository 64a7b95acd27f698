// Safetensors encoding and decoding (F32 and I64, little-endian hosts).
#include "io/safetensors.h"
#include "io/atomic_file.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>

namespace convscope::io {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

std::int64_t StoredTensor::numel() const {
    std::int64_t n = 1;
    for (auto d : shape)
        n *= d;
    return n;
}

std::string encodeSafetensors(const SafeTensors& file) {
    nlohmann::json header = nlohmann::json::object();
    std::string data;
    for (const auto& [name, t] : file.tensors) { // std::map: sorted names, as safetensors does
        const std::size_t begin = data.size();
        if (t.dtype == "I64")
            data.append(reinterpret_cast<const char*>(t.i64.data()), t.i64.size() * 8);
        else
            data.append(reinterpret_cast<const char*>(t.f32.data()), t.f32.size() * 4);
        header[name] = {
            {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
    }
    if (!file.metadata.empty())
        header["__metadata__"] = file.metadata;
    std::string h = header.dump();
    while ((h.size() + 8) % 8 != 0)
        h += ' '; // the data starts 8-byte aligned
    std::string out(8, '\0');
    const std::uint64_t n = h.size();
    std::memcpy(out.data(), &n, 8);
    return out + h + data;
}

Result<SafeTensors> decodeSafetensors(const std::string& bytes, const std::string& where) {
    auto bad = [&](const std::string& what) {
        return Status::error("not a valid safetensors file: " + what, where,
                             "The checkpoint is damaged; use an earlier one from checkpoints/");
    };
    if (bytes.size() < 8)
        return bad("shorter than its 8-byte header length");
    std::uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    if (n > bytes.size() - 8)
        return bad("the header length " + std::to_string(n) + " runs past the end of the file");
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(bytes.substr(8, n));
    } catch (const nlohmann::json::exception& e) {
        return bad(std::string("the header is not JSON (") + e.what() + ")");
    }
    if (!header.is_object())
        return bad("the header is not a JSON object");
    const std::size_t base = 8 + n;
    SafeTensors f;
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") {
            if (it->is_object())
                for (auto m = it->begin(); m != it->end(); ++m)
                    if (m->is_string())
                        f.metadata[m.key()] = m->get<std::string>();
            continue;
        }
        const auto& e = *it;
        StoredTensor t;
        try {
            t.dtype = e.at("dtype").get<std::string>();
            // Integers only: nlohmann's get<std::int64_t>() of 1e30 converts a double out of
            // range (undefined behaviour), of 2^63 wraps.
            const auto& shape = e.at("shape");
            const auto& offsets = e.at("data_offsets");
            if (!shape.is_array() || !offsets.is_array())
                return bad("tensor \"" + it.key() +
                           "\" has a shape or data offsets that are not lists");
            for (const auto& d : shape) {
                if (!d.is_number_integer() ||
                    (d.is_number_unsigned() && d.get<std::uint64_t>() > INT64_MAX))
                    return bad("tensor \"" + it.key() +
                               "\" has a shape entry that is not an integer (a " + d.type_name() +
                               ")");
                t.shape.push_back(d.get<std::int64_t>());
            }
            std::vector<std::uint64_t> off;
            for (const auto& o : offsets) {
                if (!o.is_number_unsigned())
                    return bad("tensor \"" + it.key() +
                               "\" has a data offset that is not a non-negative integer (a " +
                               o.type_name() + ")");
                off.push_back(o.get<std::uint64_t>());
            }
            // Offsets are relative to the data after the header; compare without overflowing.
            const std::uint64_t dataBytes = bytes.size() - base;
            if (off.size() != 2 || off[0] > off[1] || off[1] > dataBytes)
                return bad("tensor \"" + it.key() + "\" has data offsets outside the file");
            const std::uint64_t size = off[1] - off[0];
            const std::uint64_t element = t.dtype == "F32" ? 4 : t.dtype == "I64" ? 8 : 0;
            if (element == 0)
                return bad("tensor \"" + it.key() + "\" has dtype " + t.dtype +
                           " (convscope reads F32 and I64)");
            // The shape's element count, checked against the bytes the offsets give it before
            // anything is allocated (a shape cannot claim more than the file holds).
            std::uint64_t numel = 1;
            bool tooMany = false; // a partial product past the file's size (and maybe int64)
            for (const std::int64_t d : t.shape) {
                if (d < 0)
                    return bad("tensor \"" + it.key() + "\" has a negative dimension");
                if (d != 0 && numel > dataBytes / std::uint64_t(d))
                    tooMany = true;
                else
                    numel *= std::uint64_t(d);
            }
            if (tooMany || size != numel * element)
                return bad("tensor \"" + it.key() + "\" has the wrong number of bytes");
            const char* src = bytes.data() + base + off[0];
            if (element == 4)
                t.f32.resize(std::size_t(numel));
            else
                t.i64.resize(std::size_t(numel));
            if (size > 0) // an empty vector's data() may be null, which memcpy may not get
                std::memcpy(element == 4 ? static_cast<void*>(t.f32.data()) : t.i64.data(), src,
                            std::size_t(size));
        } catch (const nlohmann::json::exception&) {
            return bad("tensor \"" + it.key() + "\" lacks dtype, shape or data_offsets");
        }
        f.tensors[it.key()] = std::move(t);
    }
    return f;
}

Status saveSafetensors(const std::string& path, const SafeTensors& file) {
    return writeFileAtomic(path, encodeSafetensors(file));
}

Result<SafeTensors> loadSafetensors(const std::string& path) {
    CS_TRY_ASSIGN(std::string bytes, readFile(path));
    return decodeSafetensors(bytes, path);
}

} // namespace convscope::io
