package dev.offramp.weights;

import java.util.Arrays;
import java.util.Set;

/**
 * Named tensors, whatever file format holds them (one safetensors file, its shards, a TensorFlow checkpoint): all a
 * loader needs to map a format's tensor names onto the engine's weights, so each loader checks shapes the same way.
 */
public interface TensorSource {
    /** The file (or index) the tensors come from, for messages. */
    String source();

    /** Every tensor's name, in the source's own order. */
    Set<String> names();

    boolean has(String name);

    /** The stored shape; throws, naming the source, when there is no such tensor. */
    long[] shape(String name);

    /** The tensor's values as float, row-major in its stored shape. */
    float[] floats(String name);

    /**
     * The tensor's values after checking that it exists and has {@code shape}.
     *
     * @param shapeFrom what implies the shape ("config.json", "the config"), for the message
     */
    default float[] read(String name, String shapeFrom, long... shape) {
        if (!has(name)) throw new IllegalArgumentException(source() + " has no tensor '" + name + "'");
        long[] actual = shape(name);
        if (!Arrays.equals(actual, shape)) {
            throw new IllegalArgumentException(source() + ": tensor '" + name + "' has shape " + Arrays.toString(actual)
                    + ", " + shapeFrom + " implies " + Arrays.toString(shape));
        }
        return floats(name);
    }
}
