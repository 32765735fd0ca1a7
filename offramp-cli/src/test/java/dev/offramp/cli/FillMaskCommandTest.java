package dev.offramp.cli;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** fill-mask on the real bert-base-uncased, and its two user errors. */
class FillMaskCommandTest {
    @Test
    void parisIsTheCapitalOfFrance() {
        CliInputErrorsTest.Outcome o = CliInputErrorsTest.run("fill-mask", "--model", "bert-base-uncased", "--top-k", "3",
                "The capital of France is [MASK].");
        assertEquals(0, o.code(), o.err());
        List<String> lines = Arrays.asList(o.out().strip().split("\n"));
        String last = lines.getLast();
        assertTrue(last.startsWith("summary: top1=paris p="), o.out());
        double p = Double.parseDouble(last.substring(last.indexOf("p=") + 2));
        assertTrue(p > 0.3 && p <= 1, "paris is a confident guess: " + p);
        int first = lines.indexOf("[MASK] 1 of 1 (token 6):");
        assertTrue(first >= 0, o.out());
        assertTrue(lines.get(first + 1).strip().startsWith("1. paris"), o.out());
        assertTrue(lines.get(first + 3).strip().startsWith("3. "), "three guesses: " + o.out());
        assertTrue(lines.get(first + 4).contains("layer"), o.out());
        // twelve layer rows; the last layer's top-1 is the head's answer
        String layer12 = lines.get(first + 4 + 12).strip();
        assertTrue(layer12.startsWith("12  paris"), o.out());
        assertTrue(layer12.endsWith(String.format(java.util.Locale.ROOT, "%.4f", p)), layer12 + " vs " + p);
    }

    @Test
    void errorsNameTheProblem() {
        CliInputErrorsTest.Outcome o = CliInputErrorsTest.run("fill-mask", "The capital of France is Paris.");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("has no [MASK]"), o.err());
        o = CliInputErrorsTest.run("fill-mask", "--model", "bge-small-en-v1.5", "The capital of France is [MASK].");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("no masked-LM head"), o.err());
    }
}
