package dev.layerprobe.core;

import java.io.IOException;
import java.nio.file.NoSuchFileException;

/**
 * The one-line form of an error message, as LayerProbe prints errors and puts them in gRPC status
 * descriptions: the first non-blank line, trimmed. Libraries (ONNX Runtime, protobuf, the JDK)
 * often append a trace or a dump after the first line; users get the line that names the problem.
 * Stateless.
 */
public final class OneLine {
    private OneLine() {}

    /** The first non-blank line of {@code text}, trimmed; an empty string for null or blank text. */
    public static String of(String text) {
        if (text == null) {
            return "";
        }
        for (String line : text.split("\\R", -1)) {
            if (!line.isBlank()) {
                return line.strip();
            }
        }
        return "";
    }

    /**
     * The first line of a throwable's message, or its class's simple name when it has no message
     * (a {@code NullPointerException} says nothing else).
     */
    public static String of(Throwable e) {
        String s = of(e.getMessage());
        return s.isEmpty() ? e.getClass().getSimpleName() : s;
    }

    /**
     * The line a program prints when a command fails with {@code t}: {@code file not found: F} for
     * a missing file, {@code I/O error: ...} for other I/O errors, else the message's first line;
     * an exception without a message is an internal error, and the line says how to see more.
     */
    public static String forUser(Throwable t) {
        if (t instanceof NoSuchFileException n) {
            return "file not found: " + n.getFile();
        }
        String m = of(t.getMessage());
        if (m.isEmpty()) {
            return "internal error: " + t.getClass().getSimpleName() + " (rerun with --verbose for details)";
        }
        return t instanceof IOException ? "I/O error: " + m : m;
    }

    /** The first line of the message of the innermost cause, where the real reason usually is. */
    public static String ofRootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return of(t);
    }
}
