package dev.layerprobe.core.io;

import java.io.Console;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.reflect.Method;
import java.nio.charset.Charset;

/**
 * The process's standard streams as writers, and whether they reach a terminal.
 *
 * <p>Text goes out in the platform charset the JVM found at start-up, which on Java 17 is the one the
 * terminal was set up with (LANG/LC_ALL): what a user reads must render there, and what a script
 * captures is what it would get from any other tool.
 */
public final class Terminal {
    private Terminal() {}

    /** Standard output, flushed at every line. */
    public static PrintWriter stdout() {
        return writer(System.out);
    }

    /** Standard error, flushed at every line. */
    public static PrintWriter stderr() {
        return writer(System.err);
    }

    private static PrintWriter writer(PrintStream stream) {
        return new PrintWriter(new OutputStreamWriter(stream, Charset.defaultCharset()), true);
    }

    /**
     * Whether the process talks to an interactive terminal. Up to Java 21 that is a console being
     * there at all; from Java 22 a console is always there and {@code Console.isTerminal()} tells.
     */
    @SuppressWarnings("SystemConsoleNull") // the Java 22 case is handled: isTerminal() is asked where it exists
    public static boolean interactive() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            Method isTerminal = Console.class.getMethod("isTerminal");
            return (Boolean) isTerminal.invoke(console);
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }
}
