// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), used by every on-disk
// and on-wire record. A function of the bytes alone: where the CPU has the
// SSE4.2 crc32 instruction it computes it, otherwise a portable table does;
// both give the same value for the same bytes (a test compares them).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ws {

uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);
// The portable table-driven implementation, always available.
uint32_t crc32c_portable(const void* data, size_t n, uint32_t crc = 0);
// Whether crc32c uses the CPU instruction on this machine.
bool crc32c_hardware();

}  // namespace ws
