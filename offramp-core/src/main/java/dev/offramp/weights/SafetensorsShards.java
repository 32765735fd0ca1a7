package dev.offramp.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a Hugging Face model folder as one set of named tensors: either {@code model.safetensors}, or
 * the shards listed by {@code model.safetensors.index.json} ({@code {"metadata": {...}, "weight_map":
 * {"tensor name": "model-00001-of-00002.safetensors", ...}}}), each shard memory-mapped by {@link SafetensorsReader}.
 * The index is checked against the shards: every file it names must exist and hold the tensors it is said to hold.
 */
public final class SafetensorsShards implements TensorSource {
    public static final String SINGLE = "model.safetensors", INDEX = "model.safetensors.index.json";

    private final String source;                       // the file or index, for messages
    private final Map<String, SafetensorsReader> byTensor;

    private SafetensorsShards(String source, Map<String, SafetensorsReader> byTensor) {
        this.source = source;
        this.byTensor = Collections.unmodifiableMap(byTensor);
    }

    /** model.safetensors if the folder has one, else the shards of model.safetensors.index.json. */
    public static SafetensorsShards open(Path dir) {
        Path single = dir.resolve(SINGLE), index = dir.resolve(INDEX);
        if (Files.exists(single)) return single(SafetensorsReader.open(single));
        if (Files.exists(index)) return fromIndex(index);
        String hint = Files.exists(dir.resolve("pytorch_model.bin")) || Files.exists(dir.resolve("pytorch_model.bin.index.json"))
                ? " (found pytorch_model.bin: convert it to safetensors first)" : "";
        throw new IllegalArgumentException("file not found: " + single + " (nor " + INDEX + ")" + hint);
    }

    /** One file holding every tensor. */
    public static SafetensorsShards single(SafetensorsReader reader) {
        Map<String, SafetensorsReader> m = new LinkedHashMap<>();
        for (String name : reader.entries().keySet()) m.put(name, reader);
        return new SafetensorsShards(reader.file().toString(), m);
    }

    /** The shards an index file lists (paths relative to the index's folder). */
    public static SafetensorsShards fromIndex(Path index) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(index.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot parse " + index + ": " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new IllegalArgumentException(index + ": no \"weight_map\" object naming each tensor's shard");
        }
        Path dir = index.toAbsolutePath().getParent();
        Map<String, SafetensorsReader> shards = new LinkedHashMap<>();
        Map<String, SafetensorsReader> byTensor = new LinkedHashMap<>();
        for (var it = map.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            String tensor = e.getKey(), file = e.getValue().asText("");
            if (file.isEmpty() || file.contains("/") || file.contains("\\")) {
                throw new IllegalArgumentException(index + ": tensor '" + tensor + "' maps to '" + file
                        + "', not a file name in the same folder");
            }
            SafetensorsReader shard = shards.get(file);
            if (shard == null) {
                Path p = dir.resolve(file);
                if (!Files.exists(p)) {
                    throw new IllegalArgumentException("file not found: " + p + " (a shard listed by " + index + ")");
                }
                shard = SafetensorsReader.open(p);
                shards.put(file, shard);
            }
            if (!shard.has(tensor)) {
                throw new IllegalArgumentException(index + " says tensor '" + tensor + "' is in " + file
                        + ", but that shard has no such tensor");
            }
            byTensor.put(tensor, shard);
        }
        return new SafetensorsShards(index.toString(), byTensor);
    }

    /** The file or index the tensors come from. */
    @Override
    public String source() {
        return source;
    }

    @Override
    public Set<String> names() {
        return byTensor.keySet();
    }

    @Override
    public boolean has(String name) {
        return byTensor.containsKey(name);
    }

    @Override
    public long[] shape(String name) {
        return reader(name).entry(name).shape();
    }

    public String dtype(String name) {
        return reader(name).entry(name).dtype();
    }

    /** The tensor's values as float, row-major in its stored shape. */
    @Override
    public float[] floats(String name) {
        return reader(name).floats(name);
    }

    private SafetensorsReader reader(String name) {
        SafetensorsReader r = byTensor.get(name);
        if (r == null) throw new IllegalArgumentException(source + " has no tensor '" + name + "'");
        return r;
    }
}
