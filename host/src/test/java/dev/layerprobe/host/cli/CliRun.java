package dev.layerprobe.host.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the CLI in-process through picocli's {@code execute}, capturing both streams. */
record CliRun(int exit, String out, String err) {
    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LayerProbeCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** The error output is one line, starting with "layerprobe: ", without a stack trace. */
    boolean oneLineError() {
        String e = err.strip();
        return !e.isEmpty()
                && !e.contains("\n")
                && e.startsWith("layerprobe: ")
                && !e.contains("Exception")
                && !e.contains("\tat ");
    }
}
