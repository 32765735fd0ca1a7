package dev.offramp.weights;

import dev.offramp.weights.ProtoReader.LongList;
import dev.offramp.weights.ProtoReader.MalformedProtoException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Reads a TensorFlow checkpoint (a "tensor bundle"): the TF1 {@code model.ckpt.index} + {@code model.ckpt.data-*}
 * pair, or a SavedModel's {@code variables/variables.index} + {@code variables.data-*}.
 * <ul>
 *   <li>{@code <prefix>.index}: a LevelDB table ({@link LevelDbTable}). The empty key holds a BundleHeaderProto
 *       (num_shards = 1, endianness = 2, version = 3); every other key is a tensor name whose value is a
 *       BundleEntryProto (dtype = 1, shape = 2, shard_id = 3, offset = 4, size = 5, crc32c = 6, slices = 7).</li>
 *   <li>{@code <prefix>.data-0000N-of-0000M}: shard N, the raw little-endian tensor bytes at the entries' offsets.</li>
 * </ul>
 * Shards are memory-mapped; every entry is checked to lie inside its shard when the checkpoint is opened, and a
 * tensor's masked CRC32C is checked whenever it is read.
 */
public final class TfCheckpoint implements TensorSource {
    /** TensorFlow's DataType enum values this reader knows by name. */
    static final int DT_FLOAT = 1, DT_DOUBLE = 2, DT_INT32 = 3, DT_UINT8 = 4, DT_INT16 = 5, DT_INT8 = 6, DT_STRING = 7,
            DT_INT64 = 9, DT_BOOL = 10, DT_BFLOAT16 = 14, DT_HALF = 19;
    /** The newest bundle format this reader understands (TensorFlow's kTensorBundleVersion). */
    static final int READER_VERSION = 1;

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * One tensor of the bundle.
     *
     * @param crc32c masked CRC32C of the tensor's bytes (LevelDB's mask)
     * @param sliced the tensor is stored as slices of a partitioned variable (not readable here)
     */
    public record Entry(String name, int dtype, long[] shape, int shard, long offset, long size, int crc32c,
                        boolean sliced) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    private final Path indexFile;
    private final Path[] shardFiles;
    private final MemorySegment[] shards;
    private final Map<String, Entry> entries;

    private TfCheckpoint(Path indexFile, Path[] shardFiles, MemorySegment[] shards, Map<String, Entry> entries) {
        this.indexFile = indexFile;
        this.shardFiles = shardFiles;
        this.shards = shards;
        this.entries = entries;
    }

    /**
     * Opens the checkpoint whose files start with {@code prefix} ({@code .../bert_model.ckpt} or
     * {@code .../variables/variables}); the {@code .index} file itself is accepted too.
     */
    public static TfCheckpoint open(Path prefix) {
        String p = prefix.toString();
        if (p.endsWith(".index")) p = p.substring(0, p.length() - ".index".length());
        Path index = Path.of(p + ".index");
        MemorySegment indexSeg = map(index);
        if (indexSeg.byteSize() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("not a checkpoint index: " + index + " is " + indexSeg.byteSize()
                    + " bytes (an index holds names and offsets: kilobytes)");
        }
        ByteBuffer buf = indexSeg.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        List<LevelDbTable.Entry> table = LevelDbTable.read(buf, index);
        if (table.isEmpty() || table.getFirst().key().length != 0) {
            // the header sorts first under the empty key
            throw new IllegalArgumentException("not a TensorFlow checkpoint index: " + index
                    + " is a LevelDB table without the bundle header (empty key)");
        }
        int numShards = -1;
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (LevelDbTable.Entry e : table) {
            String name = new String(e.key(), StandardCharsets.UTF_8);
            try {
                if (name.isEmpty()) {
                    numShards = readHeader(new ProtoReader(buf, e.offset(), e.offset() + e.length()), index);
                } else {
                    entries.put(name, readEntry(name, new ProtoReader(buf, e.offset(), e.offset() + e.length())));
                }
            } catch (MalformedProtoException ex) {
                throw new IllegalArgumentException("checkpoint index corrupt: " + index + ": the "
                        + (name.isEmpty() ? "header" : "entry of tensor '" + name + "'") + " is not a valid protobuf ("
                        + ex.getMessage() + ")", ex);
            }
        }
        Path[] shardFiles = new Path[numShards];
        MemorySegment[] shards = new MemorySegment[numShards];
        for (int s = 0; s < numShards; s++) {
            shardFiles[s] = Path.of(String.format(Locale.ROOT, "%s.data-%05d-of-%05d", p, s, numShards));
            if (!Files.exists(shardFiles[s])) {
                throw new IllegalArgumentException("file not found: " + shardFiles[s] + " (data shard " + s + " of "
                        + numShards + " that " + index + " names)");
            }
            shards[s] = map(shardFiles[s]);
        }
        for (Entry e : entries.values()) check(e, shardFiles, shards, index);
        return new TfCheckpoint(index, shardFiles, shards, Collections.unmodifiableMap(entries));
    }

    public Path indexFile() {
        return indexFile;
    }

    @Override
    public String source() {
        return indexFile.toString();
    }

    /** Every tensor in key (name) order. */
    public Map<String, Entry> entries() {
        return entries;
    }

    @Override
    public Set<String> names() {
        return entries.keySet();
    }

    @Override
    public boolean has(String name) {
        return entries.containsKey(name);
    }

    @Override
    public long[] shape(String name) {
        return entry(name).shape();
    }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException(indexFile + " has no tensor '" + name + "'");
        return e;
    }

    /** The tensor's values as float (float32, or float64 / float16 / bfloat16 converted), after its CRC check. */
    @Override
    public float[] floats(String name) {
        Entry e = entry(name);
        if (e.sliced()) {
            throw new IllegalArgumentException(indexFile + ": tensor '" + name + "' is stored as slices of a partitioned "
                    + "variable, which this reader does not assemble");
        }
        long count = e.elementCount();
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(indexFile + ": tensor '" + name + "' too large for a float[]: " + count);
        }
        MemorySegment bytes = shards[e.shard()].asSlice(e.offset(), e.size());
        checkCrc(e, bytes);
        int n = (int) count;
        float[] out = new float[n];
        switch (e.dtype()) {
            case DT_FLOAT -> MemorySegment.copy(bytes, F32_LE, 0, out, 0, n);
            case DT_DOUBLE -> { for (int i = 0; i < n; i++) out[i] = (float) bytes.get(F64_LE, 8L * i); }
            case DT_HALF -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(bytes.get(I16_LE, 2L * i)); }
            case DT_BFLOAT16 -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat(bytes.get(I16_LE, 2L * i) << 16); }
            default -> throw new IllegalArgumentException(indexFile + ": tensor '" + name + "' has dtype "
                    + dtypeName(e.dtype()) + "; only float32, float64, float16 and bfloat16 can be read as float");
        }
        return out;
    }

    private void checkCrc(Entry e, MemorySegment bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.asByteBuffer());
        int actual = (int) crc.getValue();
        if (LevelDbTable.unmask(e.crc32c()) != actual) {
            throw new IllegalArgumentException("checkpoint data corrupt: " + shardFiles[e.shard()] + ": tensor '" + e.name()
                    + "' (bytes " + e.offset() + ".." + (e.offset() + e.size()) + ") has CRC32C 0x"
                    + Integer.toHexString(actual) + ", the index says 0x" + Integer.toHexString(LevelDbTable.unmask(e.crc32c())));
        }
    }

    /** BundleHeaderProto → the shard count, after checking byte order and version. */
    private static int readHeader(ProtoReader r, Path index) {
        long numShards = 0, endianness = 0, minConsumer = 0;
        while (r.hasMore()) {
            int field = r.nextField();
            switch (field) {
                case 1 -> numShards = r.readVarint();
                case 2 -> endianness = r.readVarint();
                case 3 -> {
                    ProtoReader v = r.readMessage(); // VersionDef: producer = 1, min_consumer = 2, bad_consumers = 3
                    while (v.hasMore()) {
                        if (v.nextField() == 2) minConsumer = v.readVarint();
                        else v.skip();
                    }
                }
                default -> r.skip();
            }
        }
        if (endianness != 0) {
            throw new IllegalArgumentException(index + ": the checkpoint was written big-endian; only little-endian "
                    + "checkpoints are supported");
        }
        if (minConsumer > READER_VERSION) {
            throw new IllegalArgumentException(index + ": the bundle format needs a reader of version " + minConsumer
                    + " or later; this one reads version " + READER_VERSION);
        }
        if (numShards < 0 || numShards > 100_000) {
            throw new IllegalArgumentException("checkpoint index corrupt: " + index + ": header says " + numShards + " shards");
        }
        return (int) numShards;
    }

    private static Entry readEntry(String name, ProtoReader r) {
        int dtype = 0, shard = 0, crc = 0;
        long offset = 0, size = 0;
        boolean sliced = false;
        LongList dims = new LongList();
        while (r.hasMore()) {
            int field = r.nextField();
            switch (field) {
                case 1 -> dtype = (int) r.readVarint();
                case 2 -> {
                    ProtoReader shape = r.readMessage(); // TensorShapeProto: dim = 2 (Dim: size = 1, name = 2)
                    while (shape.hasMore()) {
                        if (shape.nextField() == 2) {
                            ProtoReader dim = shape.readMessage();
                            long d = 0;
                            while (dim.hasMore()) {
                                if (dim.nextField() == 1) d = dim.readVarint();
                                else dim.skip();
                            }
                            dims.add(d);
                        } else {
                            shape.skip();
                        }
                    }
                }
                case 3 -> shard = (int) r.readVarint();
                case 4 -> offset = r.readVarint();
                case 5 -> size = r.readVarint();
                case 6 -> crc = r.readFixed32();
                case 7 -> { sliced = true; r.skip(); }
                default -> r.skip();
            }
        }
        return new Entry(name, dtype, dims.toArray(), shard, offset, size, crc, sliced);
    }

    /** The entry lies inside an existing shard, and its byte size matches its shape for fixed-width types. */
    private static void check(Entry e, Path[] shardFiles, MemorySegment[] shards, Path index) {
        if (e.sliced()) return; // its bytes live under the slice keys
        if (e.shard() < 0 || e.shard() >= shards.length) {
            throw new IllegalArgumentException("checkpoint index corrupt: " + index + ": tensor '" + e.name()
                    + "' is in shard " + e.shard() + " of " + shards.length);
        }
        for (long d : e.shape()) {
            if (d < 0) {
                throw new IllegalArgumentException(index + ": tensor '" + e.name() + "' has shape "
                        + Arrays.toString(e.shape()) + " with an unknown dimension");
            }
        }
        long available = shards[e.shard()].byteSize();
        if (e.offset() < 0 || e.size() < 0 || e.offset() + e.size() > available) {
            throw new IllegalArgumentException("truncated: " + shardFiles[e.shard()] + " has " + available
                    + " bytes, but tensor '" + e.name() + "' spans bytes " + e.offset() + ".." + (e.offset() + e.size()));
        }
        int width = dtypeWidth(e.dtype());
        if (width > 0 && e.elementCount() * width != e.size()) {
            throw new IllegalArgumentException("checkpoint index corrupt: " + index + ": tensor '" + e.name() + "' has shape "
                    + Arrays.toString(e.shape()) + " of " + dtypeName(e.dtype()) + " = " + e.elementCount() * width
                    + " bytes, but its entry says " + e.size());
        }
    }

    static int dtypeWidth(int dtype) {
        return switch (dtype) {
            case DT_DOUBLE, DT_INT64 -> 8;
            case DT_FLOAT, DT_INT32 -> 4;
            case DT_INT16, DT_HALF, DT_BFLOAT16 -> 2;
            case DT_UINT8, DT_INT8, DT_BOOL -> 1;
            default -> -1; // strings and the rest: size not checked
        };
    }

    static String dtypeName(int dtype) {
        List<String> names = List.of("DT_INVALID", "float32", "float64", "int32", "uint8", "int16", "int8", "string",
                "complex64", "int64", "bool", "qint8", "quint8", "qint32", "bfloat16", "qint16", "quint16", "uint16",
                "complex128", "float16");
        return dtype >= 0 && dtype < names.size() ? names.get(dtype) + " (" + dtype + ")" : "DataType " + dtype;
    }

    private static MemorySegment map(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("file not found: " + file, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
