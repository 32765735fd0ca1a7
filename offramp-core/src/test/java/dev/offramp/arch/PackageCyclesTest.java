package dev.offramp.arch;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The core's packages form an acyclic graph (kernels at the bottom, api and serving at the top): a package may use
 * only packages that do not use it back, directly or through others. Read from the sources (imports and fully
 * qualified names, comments stripped), so a cycle fails the build where it is written.
 */
class PackageCyclesTest {
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern REFERENCE = Pattern.compile("(dev\\.offramp(?:\\.[a-z]\\w*)+)\\.[A-Z]");

    @Test
    void corePackagesHaveNoCycles() throws IOException {
        Map<String, Set<String>> uses = dependencies(Path.of("src/main/java"));
        assertTrue(uses.size() >= 10, "expected the core's packages, found " + uses.keySet());
        for (String from : uses.keySet()) {
            List<String> path = pathBack(uses, from);
            assertNull(path, () -> "package cycle: " + String.join(" -> ", path));
        }
    }

    @Test
    void aCycleIsFound() {
        Map<String, Set<String>> uses = new TreeMap<>(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a")));
        assertEquals(List.of("a", "b", "c", "a"), pathBack(uses, "a"));
        assertNull(pathBack(new TreeMap<>(Map.of("a", Set.of("b"), "b", Set.of())), "a"));
    }

    /** Package → the other dev.offramp packages its sources name. */
    static Map<String, Set<String>> dependencies(Path root) throws IOException {
        Map<String, Set<String>> uses = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String src = Files.readString(f).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "");
                Matcher pm = PACKAGE.matcher(src);
                if (!pm.find()) continue;
                String pkg = pm.group(1);
                Set<String> out = uses.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = REFERENCE.matcher(src);
                while (m.find()) if (!m.group(1).equals(pkg)) out.add(m.group(1));
            }
        }
        return uses;
    }

    /** A path from {@code start} back to itself (start first and last), or null when there is none. */
    static List<String> pathBack(Map<String, Set<String>> uses, String start) {
        Deque<List<String>> todo = new ArrayDeque<>();
        todo.add(List.of(start));
        Set<String> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            List<String> path = todo.poll();
            for (String next : uses.getOrDefault(path.get(path.size() - 1), Set.of())) {
                List<String> longer = new ArrayList<>(path);
                longer.add(next);
                if (next.equals(start)) return longer;
                if (seen.add(next)) todo.add(longer);
            }
        }
        return null;
    }
}
