// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), used by every on-disk
// and on-wire record. Table-driven, no hardware dependence, so the same bytes
// give the same checksum on every build.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ws {

uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace ws
