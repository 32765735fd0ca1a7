package dev.offramp.weights;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A cursor over protobuf wire format (just enough for ONNX): varints, fixed32/64, length-delimited fields.
 * Reads from a (memory-mapped) buffer with absolute positions, so a nested message is another cursor over
 * a sub-range of the same buffer and nothing is copied. Every malformed input ends in a
 * {@link MalformedProtoException} that says at which byte offset reading went wrong.
 */
final class ProtoReader {
    static final int VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, START_GROUP = 3, END_GROUP = 4, FIXED32 = 5;

    final ByteBuffer buf;
    private int pos;
    private final int end;
    private int lastTag;

    ProtoReader(ByteBuffer buf, int start, int end) {
        if (start < 0 || end > buf.limit() || start > end) {
            throw new MalformedProtoException("message range [" + start + ", " + end + ") outside the "
                    + buf.limit() + "-byte buffer");
        }
        this.buf = buf;
        this.pos = start;
        this.end = end;
    }

    boolean hasMore() {
        return pos < end;
    }

    int position() {
        return pos;
    }

    /** Reads the next tag; returns its field number (the wire type is {@link #wireType()}). */
    int nextField() {
        long tag = readVarint();
        if (tag <= 0 || tag > 0xFFFF_FFFFL) throw new MalformedProtoException("invalid tag " + tag + " at byte " + pos);
        lastTag = (int) tag;
        int field = lastTag >>> 3;
        if (field == 0) throw new MalformedProtoException("field number 0 at byte " + pos);
        return field;
    }

    int wireType() {
        return lastTag & 7;
    }

    long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) throw new MalformedProtoException("varint runs past the end of its message at byte " + pos
                    + " (the file may be truncated)");
            byte b = buf.get(pos++);
            result |= (long) (b & 0x7F) << shift;
            if (b >= 0) return result;
        }
        throw new MalformedProtoException("varint longer than 10 bytes at byte " + pos);
    }

    int readFixed32() {
        need(4);
        // protobuf is little-endian whatever order the buffer was given
        int v = buf.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? buf.getInt(pos) : Integer.reverseBytes(buf.getInt(pos));
        pos += 4;
        return v;
    }

    long readFixed64() {
        need(8);
        long v = buf.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? buf.getLong(pos) : Long.reverseBytes(buf.getLong(pos));
        pos += 8;
        return v;
    }

    /** Reads a length prefix and returns a reader over those bytes; this reader moves past them. */
    ProtoReader readMessage() {
        int len = readLength();
        ProtoReader sub = new ProtoReader(buf, pos, pos + len);
        pos += len;
        return sub;
    }

    /** Reads a length prefix and returns {start, length} of the payload; this reader moves past it. */
    long readBytesRange() {
        int len = readLength();
        long range = ((long) pos << 32) | len;
        pos += len;
        return range;
    }

    String readString() {
        int len = readLength();
        byte[] bytes = new byte[len];
        buf.get(pos, bytes);
        pos += len;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** One value of a repeated int64/int32 field, or all of them when the field arrives packed. */
    void readInt64s(LongList into) {
        if (wireType() == LENGTH_DELIMITED) {
            ProtoReader packed = readMessage();
            while (packed.hasMore()) into.add(packed.readVarint());
        } else if (wireType() == VARINT) {
            into.add(readVarint());
        } else {
            throw new MalformedProtoException("integer field with wire type " + wireType() + " at byte " + pos);
        }
    }

    /** Skips the value of the field whose tag was just read. */
    void skip() {
        switch (wireType()) {
            case VARINT -> readVarint();
            case FIXED64 -> { need(8); pos += 8; }
            case LENGTH_DELIMITED -> { int len = readLength(); pos += len; }
            case FIXED32 -> { need(4); pos += 4; }
            case START_GROUP -> {
                int field = lastTag >>> 3;
                while (true) {
                    int f = nextField();
                    if (wireType() == END_GROUP) {
                        if (f != field) throw new MalformedProtoException("mismatched end group at byte " + pos);
                        return;
                    }
                    skip();
                }
            }
            default -> throw new MalformedProtoException("unknown wire type " + wireType() + " at byte " + pos);
        }
    }

    private int readLength() {
        long len = readVarint();
        if (len < 0 || len > end - pos) {
            throw new MalformedProtoException("length " + len + " at byte " + pos + " runs past the end of its message ("
                    + (end - pos) + " bytes left" + (len <= Integer.MAX_VALUE ? "; the file may be truncated)" : ")"));
        }
        return (int) len;
    }

    private void need(int n) {
        if (end - pos < n) throw new MalformedProtoException("fixed-width value runs past the end at byte " + pos);
    }

    /** A growable long array (no boxing). */
    static final class LongList {
        long[] values = new long[4];
        int size;

        void add(long v) {
            if (size == values.length) values = java.util.Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        long[] toArray() {
            return java.util.Arrays.copyOf(values, size);
        }
    }

    static final class MalformedProtoException extends RuntimeException {
        MalformedProtoException(String message) {
            super(message);
        }
    }
}
