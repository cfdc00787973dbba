package dev.layerprobe.dump;

import java.io.IOException;

/**
 * A folder or file that is not a readable dump: an unknown layout, a malformed name, a file of the
 * wrong size, a bad mapping file. The message names the file and what is wrong with it; it is the
 * user's input that is wrong, not the machine.
 */
public class DumpFormatException extends IOException {
    public DumpFormatException(String message) {
        super(message);
    }

    public DumpFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
