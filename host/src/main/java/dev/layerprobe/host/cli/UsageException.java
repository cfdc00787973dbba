package dev.layerprobe.host.cli;

/** A command-line value that parses but makes no sense (e.g. three means for a one-channel model). */
public final class UsageException extends Exception {
    UsageException(String message) {
        super(message);
    }
}
