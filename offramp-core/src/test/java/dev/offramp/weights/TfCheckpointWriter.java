package dev.offramp.weights;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * Writes a TensorFlow tensor bundle for tests, independently of the reader: a LevelDB table builder (data blocks
 * of about {@link #blockSize} bytes with restart points every {@link #restartInterval} keys, an empty metaindex
 * block, an index block, the 48-byte footer) and the data shards, with real masked CRC32Cs everywhere.
 */
final class TfCheckpointWriter {
    static final int DT_FLOAT = 1, DT_INT64 = 9;

    private record Tensor(int dtype, byte[] bytes, long[] shape) {}

    /** Keys sort by their UTF-8 bytes; for the ASCII names used here String order is the same. */
    private final TreeMap<String, Tensor> tensors = new TreeMap<>();
    int blockSize = 4096;
    int restartInterval = 16;
    int shards = 1;
    /** The compression type byte written in every block trailer (0 = none; the CRC covers it either way). */
    int compressionType = 0;

    TfCheckpointWriter add(String name, float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        tensors.put(name, new Tensor(DT_FLOAT, b.array(), shape));
        return this;
    }

    TfCheckpointWriter addInt64(String name, long value) {
        byte[] bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
        tensors.put(name, new Tensor(DT_INT64, bytes, new long[0]));
        return this;
    }

    /** Writes {@code prefix.index} and {@code prefix.data-0000N-of-0000M}. */
    void write(Path prefix) throws IOException {
        ByteArrayOutputStream[] data = new ByteArrayOutputStream[shards];
        for (int s = 0; s < shards; s++) data[s] = new ByteArrayOutputStream();
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        keys.add(new byte[0]);
        values.add(header());
        int next = 0;
        for (var e : tensors.entrySet()) {
            int shard = next++ % shards;
            Tensor t = e.getValue();
            long offset = data[shard].size();
            data[shard].write(t.bytes());
            CRC32C crc = new CRC32C();
            crc.update(t.bytes());
            keys.add(e.getKey().getBytes(StandardCharsets.UTF_8));
            values.add(entry(t, shard, offset, mask((int) crc.getValue())));
        }
        for (int s = 0; s < shards; s++) {
            Files.write(Path.of(String.format(Locale.ROOT, "%s.data-%05d-of-%05d", prefix, s, shards)), data[s].toByteArray());
        }
        Files.write(Path.of(prefix + ".index"), table(keys, values));
    }

    /** The table bytes for sorted keys. */
    byte[] table(List<byte[]> keys, List<byte[]> values) throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        List<byte[]> indexKeys = new ArrayList<>();
        List<byte[]> indexValues = new ArrayList<>();
        BlockBuilder block = new BlockBuilder(restartInterval);
        for (int i = 0; i < keys.size(); i++) {
            block.add(keys.get(i), values.get(i));
            if (block.size() >= blockSize || i == keys.size() - 1) {
                long offset = file.size();
                byte[] contents = block.finish();
                writeBlock(file, contents);
                indexKeys.add(keys.get(i)); // the block's last key separates it from the next
                indexValues.add(handle(offset, contents.length));
                block = new BlockBuilder(restartInterval);
            }
        }
        long metaOffset = file.size();
        byte[] meta = new BlockBuilder(restartInterval).finish();
        writeBlock(file, meta);
        BlockBuilder index = new BlockBuilder(1);
        for (int i = 0; i < indexKeys.size(); i++) index.add(indexKeys.get(i), indexValues.get(i));
        long indexOffset = file.size();
        byte[] indexBlock = index.finish();
        writeBlock(file, indexBlock);
        ByteArrayOutputStream footer = new ByteArrayOutputStream();
        footer.write(handle(metaOffset, meta.length));
        footer.write(handle(indexOffset, indexBlock.length));
        while (footer.size() < 40) footer.write(0);
        footer.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0xdb4775248b80fb57L).array());
        file.write(footer.toByteArray());
        return file.toByteArray();
    }

    private void writeBlock(ByteArrayOutputStream file, byte[] contents) throws IOException {
        file.write(contents);
        CRC32C crc = new CRC32C();
        crc.update(contents);
        crc.update(compressionType);
        file.write(compressionType);
        file.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(mask((int) crc.getValue())).array());
    }

    private static int mask(int crc) {
        return Integer.rotateRight(crc, 15) + 0xa282ead8;
    }

    private byte[] header() {
        Proto p = new Proto();
        p.varint(1, shards);
        p.varint(2, 0); // little-endian
        p.message(3, new Proto().varint(1, 1)); // VersionDef { producer: 1 }
        return p.bytes();
    }

    private static byte[] entry(Tensor t, int shard, long offset, int maskedCrc) {
        Proto shape = new Proto();
        for (long d : t.shape()) shape.message(2, new Proto().varint(1, d));
        Proto p = new Proto();
        p.varint(1, t.dtype());
        p.message(2, shape);
        if (shard != 0) p.varint(3, shard);
        if (offset != 0) p.varint(4, offset);
        p.varint(5, t.bytes().length);
        p.fixed32(6, maskedCrc);
        return p.bytes();
    }

    private static byte[] handle(long offset, long size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        varint(out, offset);
        varint(out, size);
        return out.toByteArray();
    }

    static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    /** A LevelDB block: prefix-compressed entries, a restart point every {@code interval} keys. */
    private static final class BlockBuilder {
        final int interval;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final List<Integer> restarts = new ArrayList<>(List.of(0));
        byte[] last = new byte[0];
        int sinceRestart;

        BlockBuilder(int interval) {
            this.interval = interval;
        }

        void add(byte[] key, byte[] value) {
            int shared = 0;
            if (sinceRestart == interval) {
                restarts.add(out.size());
                sinceRestart = 0;
            } else {
                int n = Math.min(last.length, key.length);
                while (shared < n && last[shared] == key[shared]) shared++;
            }
            varint(out, shared);
            varint(out, key.length - shared);
            varint(out, value.length);
            out.write(key, shared, key.length - shared);
            out.write(value, 0, value.length);
            last = Arrays.copyOf(key, key.length);
            sinceRestart++;
        }

        int size() {
            return out.size() + 4 * restarts.size() + 4;
        }

        byte[] finish() {
            ByteBuffer b = ByteBuffer.allocate(size()).order(ByteOrder.LITTLE_ENDIAN);
            b.put(out.toByteArray());
            for (int r : restarts) b.putInt(r);
            b.putInt(restarts.size());
            return b.array();
        }
    }

    /** Protobuf wire format, just the field kinds a bundle uses. */
    private static final class Proto {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long v) {
            TfCheckpointWriter.varint(out, (long) field << 3);
            TfCheckpointWriter.varint(out, v);
            return this;
        }

        Proto fixed32(int field, int v) {
            TfCheckpointWriter.varint(out, ((long) field << 3) | 5);
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
            return this;
        }

        Proto message(int field, Proto m) {
            byte[] b = m.bytes();
            TfCheckpointWriter.varint(out, ((long) field << 3) | 2);
            TfCheckpointWriter.varint(out, b.length);
            out.writeBytes(b);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
