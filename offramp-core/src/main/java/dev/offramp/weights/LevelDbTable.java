package dev.offramp.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads a LevelDB-format sorted table, the format of a TensorFlow checkpoint's {@code .index} file
 * (TensorFlow's {@code lib/io/table}, a fork of LevelDB's).
 *
 * <pre>
 * [data block]* [metaindex block] [index block] [footer: 48 bytes]
 * footer = metaindex handle, index handle (varint offset + varint size each), zero padding to 40 bytes,
 *          magic 0xdb4775248b80fb57 (fixed64 little-endian)
 * block  = entries, restart offsets (fixed32 each), restart count (fixed32); then a 5-byte trailer:
 *          compression type (0 = none) + masked CRC32C of the block and the type byte
 * entry  = shared key bytes (varint), unshared key bytes (varint), value length (varint), key suffix, value
 * </pre>
 * The index block maps the last key of each data block to that block's handle. Every block's CRC is checked;
 * a compressed block (Snappy, type 1) is refused by name, since TensorFlow writes checkpoint indexes uncompressed.
 */
final class LevelDbTable {
    static final long MAGIC = 0xdb4775248b80fb57L;
    static final int FOOTER_LENGTH = 48, TRAILER_LENGTH = 5;
    static final int NO_COMPRESSION = 0, SNAPPY = 1;
    /** Added to a rotated CRC so that a CRC of data that contains CRCs is not itself trivial (LevelDB's crc32c::Mask). */
    private static final int MASK_DELTA = 0xa282ead8;

    private LevelDbTable() {}

    /** One key/value pair; the value is {@code length} bytes of the table at {@code offset}. */
    record Entry(byte[] key, int offset, int length) {}

    /** Every entry of the table in key order, values as ranges of {@code table}; {@code file} names it in errors. */
    static List<Entry> read(ByteBuffer table, Path file) {
        ByteBuffer buf = table.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int size = buf.limit();
        if (size < FOOTER_LENGTH) {
            throw new IllegalArgumentException("truncated or not a checkpoint index: " + file + " has " + size
                    + " bytes, fewer than the 48-byte table footer");
        }
        int footer = size - FOOTER_LENGTH;
        long magic = buf.getLong(size - 8);
        if (magic != MAGIC) {
            throw new IllegalArgumentException("not a checkpoint index (LevelDB table): " + file + " ends in magic 0x"
                    + Long.toHexString(magic) + ", expected 0x" + Long.toHexString(MAGIC)
                    + " (the file is truncated or of another format)");
        }
        Cursor c = new Cursor(buf, footer, size - 8, file, "footer");
        c.handle("metaindex"); // TensorFlow's tables carry no meta blocks; the handle is read to reach the index's
        long[] index = c.handle("index");
        List<Entry> indexEntries = block(buf, index, footer, file, "index block");
        List<Entry> out = new ArrayList<>();
        byte[] previous = null;
        for (Entry ie : indexEntries) {
            Cursor hc = new Cursor(buf, ie.offset(), ie.offset() + ie.length(), file, "index entry");
            long[] handle = hc.handle("data block");
            for (Entry e : block(buf, handle, footer, file, "data block at byte " + handle[0])) {
                if (previous != null && Arrays.compareUnsigned(previous, e.key()) >= 0) {
                    throw new IllegalArgumentException(file + ": keys out of order in the data block at byte " + handle[0]
                            + " (the index is corrupt)");
                }
                previous = e.key();
                out.add(e);
            }
        }
        return out;
    }

    /** The entries of the block at {@code handle} = {offset, size}, after its trailer's CRC and compression check. */
    private static List<Entry> block(ByteBuffer buf, long[] handle, int limit, Path file, String what) {
        long offset = handle[0], size = handle[1];
        if (offset < 0 || size < 4 || offset + size + TRAILER_LENGTH > limit) {
            throw new IllegalArgumentException("truncated or corrupt checkpoint index: " + file + ": " + what
                    + " [" + offset + ", +" + size + "] plus its 5-byte trailer does not fit before the footer at byte " + limit);
        }
        int start = (int) offset, n = (int) size;
        int type = buf.get(start + n) & 0xFF;
        int stored = buf.getInt(start + n + 1);
        CRC32C crc = new CRC32C();
        crc.update(buf.slice(start, n + 1)); // the block and its compression type byte
        int actual = (int) crc.getValue();
        if (unmask(stored) != actual) {
            throw new IllegalArgumentException("checkpoint index corrupt: " + file + ": CRC32C mismatch in " + what
                    + " (stored 0x" + Integer.toHexString(unmask(stored)) + ", computed 0x" + Integer.toHexString(actual) + ")");
        }
        if (type != NO_COMPRESSION) {
            throw new IllegalArgumentException(file + ": " + what + " is compressed with "
                    + (type == SNAPPY ? "Snappy (type 1)" : "unknown compression type " + type)
                    + "; only uncompressed tables are supported (TensorFlow writes checkpoint indexes uncompressed)");
        }
        int restarts = buf.getInt(start + n - 4);
        long restartStart = (long) start + n - 4 - 4L * restarts;
        if (restarts < 0 || restartStart < start) {
            throw new IllegalArgumentException("checkpoint index corrupt: " + file + ": " + what + " claims "
                    + Integer.toUnsignedString(restarts) + " restart points, more than its " + n + " bytes hold");
        }
        List<Entry> entries = new ArrayList<>();
        Cursor c = new Cursor(buf, start, (int) restartStart, file, what);
        byte[] key = new byte[0];
        while (c.hasMore()) {
            int at = c.pos;
            long shared = c.varint(), unshared = c.varint(), valueLength = c.varint();
            if (shared > key.length || unshared > c.remaining() || valueLength > c.remaining() - unshared) {
                throw new IllegalArgumentException("checkpoint index corrupt: " + file + ": entry at byte " + at + " of "
                        + what + " (shared " + shared + ", unshared " + unshared + ", value " + valueLength
                        + ") runs past the block");
            }
            byte[] next = Arrays.copyOf(key, (int) (shared + unshared));
            buf.get(c.pos, next, (int) shared, (int) unshared);
            c.pos += (int) unshared;
            entries.add(new Entry(next, c.pos, (int) valueLength));
            c.pos += (int) valueLength;
            key = next;
        }
        return entries;
    }

    /** LevelDB's crc32c::Mask: rotate right by 15 bits and add a constant. */
    static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
    }

    static int unmask(int masked) {
        int rot = masked - MASK_DELTA;
        return (rot >>> 17) | (rot << 15);
    }

    /** Reads varints inside [pos, end) and names the file and the structure when one runs past the end. */
    private static final class Cursor {
        final ByteBuffer buf;
        int pos;
        final int end;
        final Path file;
        final String what;

        Cursor(ByteBuffer buf, int pos, int end, Path file, String what) {
            this.buf = buf;
            this.pos = pos;
            this.end = end;
            this.file = file;
            this.what = what;
        }

        boolean hasMore() {
            return pos < end;
        }

        int remaining() {
            return end - pos;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) {
                    throw new IllegalArgumentException("checkpoint index corrupt: " + file + ": varint runs past the end of the "
                            + what + " at byte " + pos);
                }
                byte b = buf.get(pos++);
                v |= (long) (b & 0x7F) << shift;
                if (b >= 0) return v;
            }
            throw new IllegalArgumentException("checkpoint index corrupt: " + file + ": varint longer than 10 bytes in the "
                    + what + " at byte " + pos);
        }

        /** A block handle {offset, size}. */
        long[] handle(String of) {
            long offset = varint(), size = varint();
            if (offset < 0 || size < 0) {
                throw new IllegalArgumentException("checkpoint index corrupt: " + file + ": " + of + " handle in the " + what
                        + " is negative");
            }
            return new long[]{offset, size};
        }
    }
}
