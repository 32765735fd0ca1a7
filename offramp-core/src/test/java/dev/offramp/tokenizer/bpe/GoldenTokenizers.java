package dev.offramp.tokenizer.bpe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The three committed tokenizer folders under golden/ and their golden.json (from llama_reference.py). */
final class GoldenTokenizers {
    private GoldenTokenizers() {}

    static final List<String> FOLDERS = List.of("tiny-llama", "tiny-qwen2", "bpe-gpt2");

    static Path folder(String name) {
        URL url = GoldenTokenizers.class.getResource("/golden/" + name + "/tokenizer.json");
        if (url == null) throw new IllegalStateException("golden/" + name + "/tokenizer.json is not on the test class path");
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode golden(String name) throws IOException {
        return new ObjectMapper().readTree(folder(name).resolve("golden.json").toFile());
    }

    static int[] ints(JsonNode array) {
        int[] a = new int[array.size()];
        for (int i = 0; i < a.length; i++) a[i] = array.get(i).asInt();
        return a;
    }

    /** Every string the reference tokenized. */
    static List<String> strings(JsonNode golden) {
        List<String> out = new ArrayList<>();
        for (JsonNode c : golden.path("tokenizer").path("cases")) out.add(c.get("text").asText());
        return out;
    }
}
