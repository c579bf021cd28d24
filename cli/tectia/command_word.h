#pragma once
// Command keywords as the Tectia command lines take them: case-insensitive,
// and any unique abbreviation longer than three letters ("ENRO", "get-ch").

#include <span>
#include <string_view>

#include "core/result.h"

namespace scepd::tectia {

// Index in `commands` of the one keyword `word` names: the keyword itself in
// any case, or a prefix of at least four letters that starts exactly one
// keyword. Fails with kInvalidArgument naming the word: unknown, too short
// an abbreviation, or ambiguous (the candidates listed).
Result<std::size_t> MatchCommand(std::string_view word, std::span<const std::string_view> commands);

}  // namespace scepd::tectia
