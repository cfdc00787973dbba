package dev.layerprobe.host.pinned;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The kind of CPU as far as float results depend on it: the widest vectors that ONNX Runtime's
 * kernels and the JVM's vector code use ({@code x86-avx512}, {@code x86-avx2}), read from the
 * flags in {@code /proc/cpuinfo}; elsewhere the JVM's {@code os.arch}.
 */
final class CpuKind {
    private CpuKind() {}

    static String current() {
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            for (String line : lines) {
                if (line.startsWith("flags")) {
                    List<String> flags =
                            List.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
                    if (flags.contains("avx512f")) {
                        return "x86-avx512";
                    }
                    if (flags.contains("avx2")) {
                        return "x86-avx2";
                    }
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no flags: the architecture alone
        }
        return arch;
    }
}
