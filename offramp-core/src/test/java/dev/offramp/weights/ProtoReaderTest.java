package dev.offramp.weights;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.*;

/** Protobuf wire format against hand-encoded bytes (examples from the protobuf encoding guide). */
class ProtoReaderTest {
    private static ProtoReader reader(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) bytes[i];
        return new ProtoReader(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN), 0, b.length);
    }

    @Test
    void varintsAndTags() {
        ProtoReader r = reader(0x08, 0x96, 0x01); // field 1, varint 150
        assertEquals(1, r.nextField());
        assertEquals(ProtoReader.VARINT, r.wireType());
        assertEquals(150, r.readVarint());
        assertFalse(r.hasMore());
        // -1 as int64: ten bytes
        assertEquals(-1L, reader(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01).readVarint());
    }

    @Test
    void packedAndUnpackedRepeatedInts() {
        // field 1 packed [3, 270, 86942] then field 1 unpacked 5
        ProtoReader r = reader(0x0A, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05, 0x08, 0x05);
        ProtoReader.LongList list = new ProtoReader.LongList();
        r.nextField();
        r.readInt64s(list);
        r.nextField();
        r.readInt64s(list);
        assertArrayEquals(new long[]{3, 270, 86942, 5}, list.toArray());
    }

    @Test
    void stringsFixedAndSkipping() {
        // field 2 "hi", field 3 fixed32 1.5f, field 4 fixed64 (skipped), field 5 string "ok"
        int f = Float.floatToIntBits(1.5f);
        ProtoReader r = reader(0x12, 0x02, 'h', 'i', 0x1D, f & 0xFF, (f >> 8) & 0xFF, (f >> 16) & 0xFF, f >>> 24,
                0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x2A, 0x02, 'o', 'k');
        assertEquals(2, r.nextField());
        assertEquals("hi", r.readString());
        assertEquals(3, r.nextField());
        assertEquals(1.5f, Float.intBitsToFloat(r.readFixed32()));
        assertEquals(4, r.nextField());
        r.skip();
        assertEquals(5, r.nextField());
        assertEquals("ok", r.readString());
    }

    @Test
    void lengthPastTheEndIsReported() {
        ProtoReader r = reader(0x0A, 0x10, 0x01); // says 16 bytes follow, 1 does
        r.nextField();
        var e = assertThrows(ProtoReader.MalformedProtoException.class, r::readMessage);
        assertTrue(e.getMessage().contains("runs past the end"), e.getMessage());
    }
}
