package dev.offramp.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.io.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes tensors as a safetensors file readable by the Python {@code safetensors} package and
 * Hugging Face transformers: the JSON header is padded with spaces so the data starts 8-byte aligned, and the
 * file is written to a temporary name then renamed, so a crash never leaves a half-written file behind.
 * Tensors are F32 unless added with another {@link Dtype} (F16 and BF16 round to nearest, ties to even).
 */
public final class SafetensorsWriter {
    /** Storage types this writer produces. */
    public enum Dtype {
        F32(4), F16(2), BF16(2);

        final int width;

        Dtype(int width) {
            this.width = width;
        }
    }

    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Map<String, float[]> values = new LinkedHashMap<>();
    private final Map<String, Dtype> dtypes = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds an F32 tensor; {@code data.length} must equal the product of {@code shape}. Order is kept. */
    public SafetensorsWriter add(String name, float[] data, long... shape) {
        return add(name, Dtype.F32, data, shape);
    }

    /** Adds a tensor stored as {@code dtype}; {@code data.length} must equal the product of {@code shape}. */
    public SafetensorsWriter add(String name, Dtype dtype, float[] data, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        if (n != data.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + java.util.Arrays.toString(shape)
                    + " holds " + n + " values, data has " + data.length);
        }
        if (name.equals("__metadata__") || shapes.putIfAbsent(name, shape.clone()) != null) {
            throw new IllegalArgumentException("duplicate or reserved tensor name '" + name + "'");
        }
        values.put(name, data);
        dtypes.put(name, dtype);
        return this;
    }

    /** Bytes of tensor data the file will hold (without the header). */
    public long dataBytes() {
        long n = 0;
        for (var e : values.entrySet()) n += (long) dtypes.get(e.getKey()).width * e.getValue().length;
        return n;
    }

    /** The bfloat16 bits nearest to f (ties to even); NaN stays a quiet NaN. */
    public static short toBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public void write(Path file) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (var e : shapes.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            Dtype dtype = dtypes.get(e.getKey());
            t.put("dtype", dtype.name());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.getValue()) shape.add(d);
            long bytes = (long) dtype.width * values.get(e.getKey()).length;
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] headerJson;
        try {
            headerJson = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int padded = (headerJson.length + 7) & ~7; // 8 + padded is a multiple of 8
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            AtomicFiles.write(file, tmp -> {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
                    head.putLong(padded).put(headerJson);
                    while (head.hasRemaining()) head.put((byte) ' ');
                    writeFully(ch, head.flip());
                    ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                    for (var e : values.entrySet()) {
                        float[] v = e.getValue();
                        Dtype dtype = dtypes.get(e.getKey());
                        for (int i = 0; i < v.length; ) {
                            int n = Math.min(v.length - i, chunk.capacity() / dtype.width);
                            chunk.clear();
                            switch (dtype) {
                                case F32 -> chunk.asFloatBuffer().put(v, i, n);
                                case F16 -> { for (int j = 0; j < n; j++) chunk.putShort(2 * j, Float.floatToFloat16(v[i + j])); }
                                case BF16 -> { for (int j = 0; j < n; j++) chunk.putShort(2 * j, toBfloat16(v[i + j])); }
                            }
                            chunk.position(0).limit(n * dtype.width);
                            writeFully(ch, chunk);
                            i += n;
                        }
                    }
                    ch.force(true);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
