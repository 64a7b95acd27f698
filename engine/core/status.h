// Status and Result<T>: errors that say what went wrong, where, and what to do about it.
#pragma once

#include <cassert>
#include <memory>
#include <string>
#include <utility>
#include <variant>

namespace convscope {

class [[nodiscard]] Status {
public:
    Status() = default;
    static Status error(std::string what, std::string where = {}, std::string hint = {}) {
        Status s;
        s.m_error =
            std::make_shared<Error>(Error{std::move(what), std::move(where), std::move(hint)});
        return s;
    }

    bool ok() const { return !m_error; }
    const std::string& what() const { return m_error ? m_error->what : empty(); }
    const std::string& where() const { return m_error ? m_error->where : empty(); }
    const std::string& hint() const { return m_error ? m_error->hint : empty(); }

    // "where: what. hint" — one line for a terminal or a message box.
    std::string message() const {
        if (ok())
            return "ok";
        std::string m = where().empty() ? what() : where() + ": " + what();
        if (!hint().empty())
            m += ". " + hint();
        return m;
    }

    // Prefixes the location, e.g. "layer 3 fc2" in front of "linear".
    Status within(const std::string& outer) const {
        if (ok())
            return *this;
        return error(what(), where().empty() ? outer : outer + ": " + where(), hint());
    }

private:
    struct Error {
        std::string what, where, hint;
    };
    static const std::string& empty() {
        static const std::string e;
        return e;
    }
    std::shared_ptr<const Error> m_error;
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::move(value)) {}
    Result(Status status) : m_v(std::move(status)) { assert(!std::get<Status>(m_v).ok()); }

    bool ok() const { return std::holds_alternative<T>(m_v); }
    Status status() const { return ok() ? Status{} : std::get<Status>(m_v); }
    T& value() & { return std::get<T>(m_v); }
    const T& value() const& { return std::get<T>(m_v); }
    T&& value() && { return std::get<T>(std::move(m_v)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }

private:
    std::variant<T, Status> m_v;
};

} // namespace convscope

#define CS_CONCAT_INNER(a, b) a##b
#define CS_CONCAT(a, b) CS_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` failed.
#define CS_TRY(expr)                                                                               \
    do {                                                                                           \
        if (::convscope::Status cs_try_status_ = (expr); !cs_try_status_.ok())                     \
            return cs_try_status_;                                                                 \
    } while (0)

// `CS_TRY_ASSIGN(auto x, makeX());` declares x from a Result or returns its error.
#define CS_TRY_ASSIGN(decl, expr) CS_TRY_ASSIGN_IMPL(CS_CONCAT(cs_result_, __LINE__), decl, expr)
#define CS_TRY_ASSIGN_IMPL(tmp, decl, expr)                                                        \
    auto tmp = (expr);                                                                             \
    if (!tmp.ok())                                                                                 \
        return tmp.status();                                                                       \
    decl = std::move(tmp).value()
