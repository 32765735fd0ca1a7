package dev.offramp.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Reads a safetensors file: an 8-byte little-endian header length N, N bytes of JSON
 * ({@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}}),
 * then the tensor bytes, offsets relative to the end of the header. The file is memory-mapped (no 2 GB limit)
 * and a tensor is copied out only when asked for. F32, F16 and BF16 are read as float.
 */
public final class SafetensorsReader implements TensorSource {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Guards against reading gigabytes of garbage as JSON; real headers are kilobytes to a few megabytes. */
    private static final long MAX_HEADER = 100L << 20;

    /** One tensor's entry in the header. {@code begin}/{@code end} are absolute file offsets. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        public long elementCount() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    private final Path file;
    private final MemorySegment data;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsReader(Path file, MemorySegment data, Map<String, Entry> entries, Map<String, String> metadata) {
        this.file = file;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Maps and validates {@code file}: header well-formed, every tensor inside the file with the right byte size. */
    public static SafetensorsReader open(Path file) {
        MemorySegment seg;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("file not found: " + file, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        long size = seg.byteSize();
        if (size < 8) {
            throw new IllegalArgumentException("truncated: " + file + " has " + size + " bytes, too few for the 8-byte "
                    + "safetensors header length");
        }
        long headerLen = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen < 2 || headerLen > MAX_HEADER) {
            throw new IllegalArgumentException("not a safetensors file: " + file + " (header length " + headerLen
                    + " is implausible)");
        }
        if (headerLen > size - 8) {
            throw new IllegalArgumentException("truncated: " + file + ": header says " + headerLen + " bytes, file has "
                    + (size - 8) + " after the length");
        }
        byte[] headerBytes = seg.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header;
        try {
            header = new ObjectMapper().readTree(new String(headerBytes, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a safetensors file: " + file + " (header is not JSON: "
                    + e.getOriginalMessage() + ")", e);
        }
        if (header == null || !header.isObject()) {
            throw new IllegalArgumentException("not a safetensors file: " + file + " (header is not a JSON object)");
        }
        long dataStart = 8 + headerLen, dataSize = size - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (var it = header.properties().iterator(); it.hasNext(); ) {
            var field = it.next();
            String name = field.getKey();
            JsonNode e = field.getValue();
            if (name.equals("__metadata__")) {
                e.properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            JsonNode shapeNode = e.get("shape"), offsets = e.get("data_offsets"), dtype = e.get("dtype");
            if (shapeNode == null || !shapeNode.isArray() || offsets == null || offsets.size() != 2 || dtype == null) {
                throw new IllegalArgumentException("not a safetensors file: " + file + " (tensor '" + name
                        + "' lacks dtype, shape or data_offsets)");
            }
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) shape[i] = shapeNode.get(i).asLong();
            long begin = offsets.get(0).asLong(), end = offsets.get(1).asLong();
            Entry entry = new Entry(name, dtype.asText(), shape, dataStart + begin, dataStart + end);
            if (begin < 0 || end < begin) {
                throw new IllegalArgumentException("not a safetensors file: " + file + " (tensor '" + name
                        + "' has data_offsets [" + begin + ", " + end + "])");
            }
            if (end > dataSize) {
                throw new IllegalArgumentException("truncated: " + file + ": tensor '" + name + "' ends at byte " + end
                        + " of the data section, file has only " + dataSize);
            }
            int width = dtypeWidth(entry.dtype());
            if (width > 0 && entry.elementCount() * width != end - begin) {
                throw new IllegalArgumentException(file + ": tensor '" + name + "' has shape "
                        + java.util.Arrays.toString(shape) + " of " + entry.dtype() + " = " + entry.elementCount() * width
                        + " bytes, but data_offsets span " + (end - begin));
            }
            entries.put(name, entry);
        }
        return new SafetensorsReader(file, seg, Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata));
    }

    public Path file() {
        return file;
    }

    @Override
    public String source() {
        return file.toString();
    }

    /** Every tensor, in header order. */
    public Map<String, Entry> entries() {
        return entries;
    }

    public Map<String, String> metadata() {
        return metadata;
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
        if (e == null) throw new IllegalArgumentException(file + " has no tensor '" + name + "'");
        return e;
    }

    /** The tensor's values as float (F32, F16, BF16, F64), row-major in its stored shape. */
    @Override
    public float[] floats(String name) {
        Entry e = entry(name);
        long count = e.elementCount();
        if (count > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("tensor '" + name + "' too large for a float[]: " + count);
        int n = (int) count;
        float[] out = new float[n];
        long at = e.begin();
        switch (e.dtype()) {
            case "F32" -> MemorySegment.copy(data, F32_LE, at, out, 0, n);
            case "F16" -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(data.get(I16_LE, at + 2L * i)); }
            case "BF16" -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat(data.get(I16_LE, at + 2L * i) << 16); }
            case "F64" -> { for (int i = 0; i < n; i++) out[i] = (float) data.get(F64_LE, at + 8L * i); }
            default -> throw new IllegalArgumentException(file + ": tensor '" + name + "' has dtype " + e.dtype()
                    + "; only F32, F16, BF16 and F64 can be read as float");
        }
        return out;
    }

    static int dtypeWidth(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
            default -> -1; // unknown: size not checked
        };
    }
}
