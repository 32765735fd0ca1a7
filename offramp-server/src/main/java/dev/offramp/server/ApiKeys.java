package dev.offramp.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * The optional API key. Clients send it as {@code Authorization: Bearer KEY} or {@code X-API-Key: KEY}; the
 * comparison is {@link MessageDigest#isEqual}, whose time does not depend on where the first difference is, so
 * the key cannot be guessed byte by byte from response times.
 */
public final class ApiKeys {
    private final byte[] key;

    ApiKeys(String key) {
        this.key = key.getBytes(StandardCharsets.UTF_8);
    }

    /** Reads a key file (what --api-key-file names): its first line, surrounding whitespace removed (a trailing newline is not part of the key). */
    public static String read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("API key file not found: " + file);
        }
        String first = text.lines().findFirst().orElse("").strip();
        if (first.isEmpty()) throw new IllegalArgumentException("API key file " + file + " is empty");
        return first;
    }

    /** True when one of the two headers carries the key. */
    boolean accepts(String authorization, String xApiKey) {
        boolean ok = false;
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            ok = matches(authorization.substring(7).strip());
        }
        if (xApiKey != null) ok |= matches(xApiKey.strip());
        return ok;
    }

    private boolean matches(String given) {
        return MessageDigest.isEqual(key, given.getBytes(StandardCharsets.UTF_8));
    }
}
