package dev.offramp.cli;

import dev.offramp.tokenizer.Encoding;
import dev.offramp.tokenizer.InputTooLongException;
import dev.offramp.tokenizer.Truncation;
import dev.offramp.tokenizer.WordPieceTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Texts a user hands to a command: from the command line, or one per line from a file (a tab splits a pair).
 * Every problem is named with where it is: an empty text, a text longer than the model accepts (unless
 * truncation was asked for), bytes that are not UTF-8 (with the line and byte offset), a missing file.
 */
final class InputTexts {
    /** One input: a text or a pair, and where it came from (for error messages). */
    record Text(String a, String b, String where) {}

    private InputTexts() {}

    static List<Text> collect(List<String> args, Path file, boolean pairs) throws IOException {
        List<Text> out = new ArrayList<>();
        if (args != null) {
            if (pairs) {
                if (args.size() % 2 != 0) throw new IllegalArgumentException("--pair needs an even number of texts, got " + args.size());
                for (int i = 0; i < args.size(); i += 2) out.add(new Text(args.get(i), args.get(i + 1), "argument " + (i + 1)));
            } else {
                for (int i = 0; i < args.size(); i++) out.add(new Text(args.get(i), null, "argument " + (i + 1)));
            }
        }
        if (file != null) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("input file not found: " + file);
            }
            String text;
            try {
                text = WordPieceTokenizer.decodeUtf8Strict(bytes);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
            String[] lines = text.split("\r?\n", -1);
            for (int i = 0; i < lines.length; i++) {
                if (i == lines.length - 1 && lines[i].isEmpty()) break; // final newline
                String where = file + ":" + (i + 1);
                if (pairs) {
                    String[] cols = lines[i].split("\t", -1);
                    if (cols.length != 2) throw new IllegalArgumentException(where + ": expected two tab-separated texts, found " + cols.length + " field(s)");
                    out.add(new Text(cols[0], cols[1], where));
                } else {
                    out.add(new Text(lines[i], null, where));
                }
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no input: give texts as arguments or --input FILE");
        return out;
    }

    /** Tokenizes every input; refuses empty or too-long texts unless truncate (which still refuses empty ones). */
    static List<Encoding> encode(WordPieceTokenizer tok, List<Text> texts, int maxLength, boolean truncate) {
        List<Encoding> out = new ArrayList<>(texts.size());
        for (Text t : texts) {
            try {
                WordPieceTokenizer.validate(t.a());
                if (t.b() != null) WordPieceTokenizer.validate(t.b());
                Truncation mode = truncate ? Truncation.TRUNCATE : Truncation.STRICT;
                out.add(t.b() == null ? tok.encode(t.a(), maxLength, mode) : tok.encodePair(t.a(), t.b(), maxLength, mode));
            } catch (IllegalArgumentException e) {
                String hint = e instanceof InputTooLongException ? " (pass --truncate to cut it)" : "";
                throw new IllegalArgumentException(t.where() + ": " + e.getMessage() + hint, e);
            }
        }
        return out;
    }
}
