/*
 * tt_params.c - the trained parameters outside the model: a self-describing blob (format
 * version, the model's layout hash, CRC-32) for export / import, and a power-fail-safe store in
 * two flash slots (tt_checkpoint_save / tt_checkpoint_load). No heap; flash goes through the
 * caller's callbacks (tt_flash), a small stack buffer at a time.
 *
 * Layer: bottom (calls no other runtime file).
 */
#include <string.h>

#include "tt_internal.h"

/* ----------------------------------------------------------------------- CRC-32 */

/* CRC-32 (IEEE 802.3, reflected, as zlib.crc32), four bits per step from a 16-entry table. */
static const uint32_t CRC_NIBBLES[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
    0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
    0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t tt_crc32(uint32_t crc, const void *data, size_t size)
{
    const uint8_t *bytes = (const uint8_t *)data;
    crc = ~crc;
    for (size_t i = 0; i < size; ++i) {
        crc ^= bytes[i];
        crc = (crc >> 4) ^ CRC_NIBBLES[crc & 15u];
        crc = (crc >> 4) ^ CRC_NIBBLES[crc & 15u];
    }
    return ~crc;
}

static uint32_t spans_crc(const tt_span *spans, size_t count)
{
    uint32_t crc = 0;
    for (size_t i = 0; i < count; ++i) {
        crc = tt_crc32(crc, spans[i].data, spans[i].size);
    }
    return crc;
}

size_t tt_spans_size(const tt_span *spans, size_t count)
{
    size_t size = 0;
    for (size_t i = 0; i < count; ++i) {
        size += spans[i].size;
    }
    return size;
}

/* ----------------------------------------------------------------------- little-endian words */

static void put_u32(uint8_t *out, uint32_t value)
{
    out[0] = (uint8_t)value;
    out[1] = (uint8_t)(value >> 8);
    out[2] = (uint8_t)(value >> 16);
    out[3] = (uint8_t)(value >> 24);
}

static uint32_t get_u32(const uint8_t *in)
{
    return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 24;
}

/* ----------------------------------------------------------------------- blobs */

/* Blob header: magic, version, model hash, payload bytes, payload CRC-32 (5 words). */
size_t tt_params_export(uint32_t model_hash, const tt_span *spans, size_t count, uint8_t *buffer,
                        size_t buffer_bytes)
{
    const size_t payload = tt_spans_size(spans, count);
    if (buffer == NULL || buffer_bytes < TT_PARAMS_HEADER_BYTES + payload) {
        return 0;
    }
    put_u32(buffer, TT_PARAMS_MAGIC);
    put_u32(buffer + 4, TT_PARAMS_VERSION);
    put_u32(buffer + 8, model_hash);
    put_u32(buffer + 12, (uint32_t)payload);
    put_u32(buffer + 16, spans_crc(spans, count));
    uint8_t *out = buffer + TT_PARAMS_HEADER_BYTES;
    for (size_t i = 0; i < count; ++i) {
        memcpy(out, spans[i].data, spans[i].size);
        out += spans[i].size;
    }
    return TT_PARAMS_HEADER_BYTES + payload;
}

int tt_params_import(uint32_t model_hash, const tt_span *spans, size_t count, const uint8_t *blob,
                     size_t bytes)
{
    const size_t payload = tt_spans_size(spans, count);
    if (blob == NULL) {
        return TT_PARAMS_ERROR_ARGUMENT;
    }
    if (bytes != TT_PARAMS_HEADER_BYTES + payload) {
        return TT_PARAMS_ERROR_SIZE;
    }
    if (get_u32(blob) != TT_PARAMS_MAGIC || get_u32(blob + 4) != TT_PARAMS_VERSION ||
        get_u32(blob + 12) != (uint32_t)payload) {
        return TT_PARAMS_ERROR_FORMAT;
    }
    if (get_u32(blob + 8) != model_hash) {
        return TT_PARAMS_ERROR_MODEL;
    }
    if (tt_crc32(0, blob + TT_PARAMS_HEADER_BYTES, payload) != get_u32(blob + 16)) {
        return TT_PARAMS_ERROR_CRC;
    }
    const uint8_t *in = blob + TT_PARAMS_HEADER_BYTES;
    for (size_t i = 0; i < count; ++i) {
        memcpy(spans[i].data, in, spans[i].size);
        in += spans[i].size;
    }
    return TT_PARAMS_OK;
}

/* ----------------------------------------------------------------------- checkpoints */

/* Slot header (8 words): magic, version, sequence, model hash, payload bytes, payload CRC,
 * reserved (0), CRC-32 of the first 7 words. Programmed after the payload: until it is complete
 * and its CRC matches, the slot holds nothing. */
enum { SLOT_HEADER_BYTES = 32, CHUNK_BYTES = 64 };
static const uint32_t SLOT_MAGIC = 0x4b435454u; /* "TTCK" */

typedef struct {
    int valid;
    uint32_t sequence;
} slot_state;

size_t tt_checkpoint_slot_bytes(size_t payload)
{
    return SLOT_HEADER_BYTES + payload;
}

static int flash_args_ok(const tt_flash *flash)
{
    return flash != NULL && flash->read != NULL && flash->program != NULL && flash->erase != NULL &&
           flash->page_size > 0 && flash->slot[0] % flash->page_size == 0 &&
           flash->slot[1] % flash->page_size == 0;
}

/* CRC-32 of `size` flash bytes at `address`, read CHUNK_BYTES at a time; -1 if a read fails. */
static int flash_crc(const tt_flash *flash, uint32_t address, size_t size, uint32_t *crc)
{
    uint8_t chunk[CHUNK_BYTES];
    *crc = 0;
    for (size_t done = 0; done < size;) {
        const size_t n = size - done < CHUNK_BYTES ? size - done : CHUNK_BYTES;
        if (flash->read(flash->user, address + (uint32_t)done, chunk, n) != 0) {
            return -1;
        }
        *crc = tt_crc32(*crc, chunk, n);
        done += n;
    }
    return 0;
}

/* Reads and checks slot `index` (header, then the payload's CRC). */
static slot_state read_slot(const tt_flash *flash, int index, uint32_t model_hash, size_t payload)
{
    slot_state state = {0, 0};
    uint8_t header[SLOT_HEADER_BYTES];
    uint32_t crc = 0;
    const uint32_t base = flash->slot[index];
    if (flash->read(flash->user, base, header, sizeof header) != 0 ||
        get_u32(header) != SLOT_MAGIC || get_u32(header + 4) != TT_PARAMS_VERSION ||
        get_u32(header + 12) != model_hash || get_u32(header + 16) != (uint32_t)payload ||
        tt_crc32(0, header, 28) != get_u32(header + 28)) {
        return state;
    }
    if (flash_crc(flash, base + SLOT_HEADER_BYTES, payload, &crc) != 0 || crc != get_u32(header + 20)) {
        return state;
    }
    state.valid = 1;
    state.sequence = get_u32(header + 8);
    return state;
}

/* The slot holding the newest valid checkpoint, or -1 (sequence numbers compared modulo 2^32). */
static int newest_slot(const slot_state *slots)
{
    if (slots[0].valid && slots[1].valid) {
        return (int32_t)(slots[1].sequence - slots[0].sequence) > 0 ? 1 : 0;
    }
    return slots[0].valid ? 0 : slots[1].valid ? 1 : -1;
}

/* Programs `size` bytes at `address`, never crossing a page in one call. */
static int program(const tt_flash *flash, uint32_t address, const uint8_t *data, size_t size)
{
    while (size > 0) {
        const size_t room = flash->page_size - address % flash->page_size;
        const size_t n = size < room ? size : room;
        if (flash->program(flash->user, address, data, n) != 0) {
            return -1;
        }
        address += (uint32_t)n;
        data += n;
        size -= n;
    }
    return 0;
}

int tt_checkpoint_save(const tt_flash *flash, uint32_t model_hash, const tt_span *spans, size_t count)
{
    if (!flash_args_ok(flash) || (spans == NULL && count > 0)) {
        return TT_PARAMS_ERROR_ARGUMENT;
    }
    const size_t payload = tt_spans_size(spans, count);
    const slot_state slots[2] = {read_slot(flash, 0, model_hash, payload),
                                 read_slot(flash, 1, model_hash, payload)};
    const int newest = newest_slot(slots);
    const int target = newest == 0 ? 1 : 0; /* never the newest valid slot */
    const uint32_t sequence = newest >= 0 ? slots[newest].sequence + 1u : 1u;
    const uint32_t base = flash->slot[target];
    const size_t pages = (tt_checkpoint_slot_bytes(payload) + flash->page_size - 1) / flash->page_size;
    if (flash->erase(flash->user, base, pages * flash->page_size) != 0) {
        return TT_PARAMS_ERROR_FLASH;
    }
    uint32_t address = base + SLOT_HEADER_BYTES;
    for (size_t i = 0; i < count; ++i) {
        if (program(flash, address, (const uint8_t *)spans[i].data, spans[i].size) != 0) {
            return TT_PARAMS_ERROR_FLASH;
        }
        address += (uint32_t)spans[i].size;
    }
    uint8_t header[SLOT_HEADER_BYTES];
    put_u32(header, SLOT_MAGIC);
    put_u32(header + 4, TT_PARAMS_VERSION);
    put_u32(header + 8, sequence);
    put_u32(header + 12, model_hash);
    put_u32(header + 16, (uint32_t)payload);
    put_u32(header + 20, spans_crc(spans, count));
    put_u32(header + 24, 0u);
    put_u32(header + 28, tt_crc32(0, header, 28));
    if (program(flash, base, header, sizeof header) != 0) {
        return TT_PARAMS_ERROR_FLASH;
    }
    return read_slot(flash, target, model_hash, payload).valid ? TT_PARAMS_OK : TT_PARAMS_ERROR_FLASH;
}

int tt_checkpoint_load(const tt_flash *flash, uint32_t model_hash, const tt_span *spans, size_t count)
{
    if (!flash_args_ok(flash) || (spans == NULL && count > 0)) {
        return TT_PARAMS_ERROR_ARGUMENT;
    }
    const size_t payload = tt_spans_size(spans, count);
    const slot_state slots[2] = {read_slot(flash, 0, model_hash, payload),
                                 read_slot(flash, 1, model_hash, payload)};
    const int newest = newest_slot(slots);
    if (newest < 0) {
        return TT_PARAMS_ERROR_NO_CHECKPOINT;
    }
    uint32_t address = flash->slot[newest] + SLOT_HEADER_BYTES;
    for (size_t i = 0; i < count; ++i) {
        if (flash->read(flash->user, address, spans[i].data, spans[i].size) != 0) {
            return TT_PARAMS_ERROR_FLASH;
        }
        address += (uint32_t)spans[i].size;
    }
    return TT_PARAMS_OK;
}
