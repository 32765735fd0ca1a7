package dev.offramp.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Finds the shared data folder (system property offramp.shared, else /work/shared) and reads GLUE TSV columns. */
final class SharedData {
    private SharedData() {
    }

    static Path root() {
        String prop = System.getProperty("offramp.shared");
        if (prop != null && Files.isDirectory(Path.of(prop, "data"))) {
            return Path.of(prop);
        }
        return Path.of("/work/shared");
    }

    static Path glue(String task, String file) {
        Path p = root().resolve("data/glue").resolve(task).resolve(file);
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("GLUE file not found: " + p + " (set -Dofframp.shared=<folder>)");
        }
        return p;
    }

    /** The named columns of a tab-separated file with a header row (BOM tolerated), quotes taken literally. */
    static List<String[]> columns(Path tsv, String... names) throws IOException {
        List<String> lines = Files.readAllLines(tsv, StandardCharsets.UTF_8);
        String[] header = lines.get(0).replace("\uFEFF", "").split("\t", -1);
        int[] idx = new int[names.length];
        for (int k = 0; k < names.length; k++) {
            idx[k] = Arrays.asList(header).indexOf(names[k]);
            if (idx[k] < 0) {
                throw new IllegalStateException(tsv + ": no column '" + names[k] + "' in " + Arrays.toString(header));
            }
        }
        List<String[]> rows = new ArrayList<>();
        for (int line = 1; line < lines.size(); line++) {
            if (lines.get(line).isEmpty()) {
                continue;
            }
            String[] cells = lines.get(line).split("\t", -1);
            String[] row = new String[names.length];
            for (int k = 0; k < names.length; k++) {
                row[k] = cells[idx[k]];
            }
            rows.add(row);
        }
        return rows;
    }
}
