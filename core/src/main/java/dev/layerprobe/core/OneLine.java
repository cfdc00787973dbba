package dev.layerprobe.core;

/**
 * The one-line form of an error message, as LayerProbe prints errors and puts them in gRPC status
 * descriptions: the first non-blank line, trimmed. Libraries (ONNX Runtime, protobuf, the JDK)
 * often append a trace or a dump after the first line; users get the line that names the problem.
 * Stateless.
 */
public final class OneLine {
    private OneLine() {
    }

    /** The first non-blank line of {@code text}, trimmed; an empty string for null or blank text. */
    public static String of(String text) {
        if (text == null) {
            return "";
        }
        for (String line : text.split("\\R")) {
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

    /** The first line of the message of the innermost cause, where the real reason usually is. */
    public static String ofRootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return of(t);
    }
}
